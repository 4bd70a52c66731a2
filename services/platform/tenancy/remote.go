package tenancy

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// RemoteChecker asks the customer service, which owns tenants.
type RemoteChecker struct {
	Client customerv1.TenantAdminServiceClient
}

// TenantExists implements Checker.
func (r RemoteChecker) TenantExists(ctx context.Context, tenantID string) (bool, error) {
	_, err := r.Client.GetTenant(ctx, &customerv1.GetTenantRequest{TenantId: tenantID})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound, codes.InvalidArgument:
		return false, nil
	default:
		return false, err
	}
}
