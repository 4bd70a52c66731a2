// Package remote adapts the services the history service calls: the
// customer service (tenants) and the ledger's change stream.
package remote

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Dial connects to a service with the service token; the call's context
// names the tenant (tenancy.WithTenant). The connection is lazy: it does not
// fail when the service is not up yet.
func Dial(addr, serviceToken string) (*grpc.ClientConn, error) {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(serviceToken)...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// Tenants lists every tenant, sandbox twins included, from the customer
// service.
type Tenants struct {
	Client customerv1.TenantAdminServiceClient
}

// ListTenantIDs pages through ListTenants.
func (t Tenants) ListTenantIDs(ctx context.Context) ([]string, error) {
	var ids []string
	token := ""
	for {
		resp, err := t.Client.ListTenants(ctx, &customerv1.ListTenantsRequest{PageSize: 1000, PageToken: token})
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
