// Package customerdir asks the customer service, which owns customers,
// whether a tenant has a customer.
package customerdir

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// callTimeout bounds one question when the caller set no tighter deadline.
const callTimeout = 10 * time.Second

// Remote is a ledger.CustomerDirectory over the customer service.
type Remote struct {
	client customerv1.CustomerServiceClient
}

// NewRemote returns a directory over conn, a connection made with
// app.DialCustomer (which sends the service token and the tenant).
func NewRemote(conn grpc.ClientConnInterface) *Remote {
	return &Remote{client: customerv1.NewCustomerServiceClient(conn)}
}

// CustomerExists asks for the customer as tenantID: the tenant of the call
// is set here from the argument, whatever ctx carries, so the answer is
// always about that tenant's customer.
func (r *Remote) CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error) {
	ctx, cancel := context.WithTimeout(tenancy.WithTenant(ctx, tenantID), callTimeout)
	defer cancel()
	_, err := r.client.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: customerID})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound:
		return false, nil
	default:
		return false, err
	}
}
