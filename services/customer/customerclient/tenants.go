package customerclient

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Tenants asks the customer service about tenants.
type Tenants struct {
	client customerv1.TenantAdminServiceClient
}

// NewTenants returns the tenant questions over conn.
func NewTenants(conn grpc.ClientConnInterface) *Tenants {
	return &Tenants{client: customerv1.NewTenantAdminServiceClient(conn)}
}

// TenantExists implements tenancy.Checker.
func (t *Tenants) TenantExists(ctx context.Context, tenantID string) (bool, error) {
	_, err := t.client.GetTenant(ctx, &customerv1.GetTenantRequest{TenantId: tenantID})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound, codes.InvalidArgument:
		return false, nil
	default:
		return false, err
	}
}

// ListTenantIDs lists every tenant, sandbox twins included.
func (t *Tenants) ListTenantIDs(ctx context.Context) ([]string, error) {
	var ids []string
	token := ""
	for {
		resp, err := t.client.ListTenants(ctx, &customerv1.ListTenantsRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		for _, tn := range resp.GetTenants() {
			ids = append(ids, tn.GetTenantId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return ids, nil
		}
	}
}

// TenantChecker is the tenancy check of a service other than the customer
// service: it asks over conn, and remembers known tenants for a minute
// (tenants are never deleted).
func TenantChecker(conn grpc.ClientConnInterface) tenancy.Checker {
	return tenancy.NewCachedChecker(NewTenants(conn), time.Minute)
}
