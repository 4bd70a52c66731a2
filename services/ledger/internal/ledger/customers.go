package ledger

import "context"

// CustomerDirectory tells whether a tenant has a customer. The customer
// service owns customers; the ledger only asks (customerclient.Cached over
// customerclient.Remote).
type CustomerDirectory interface {
	CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error)
}
