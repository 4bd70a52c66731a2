// Package remote adapts the services the history service calls: the
// customer service (tenants) and the ledger's change stream.
package remote

import (
	"context"
	"fmt"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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
