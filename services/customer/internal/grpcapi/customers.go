package grpcapi

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Customers implements customerv1.CustomerServiceServer over the customer
// domain, one file per operation (customer_*.go, extended.go). Every call
// acts for the tenant the interceptor put in the context.
type Customers struct {
	customerv1.UnimplementedCustomerServiceServer
	svc *customer.Service
	log *slog.Logger
}

var _ customerv1.CustomerServiceServer = (*Customers)(nil)

// NewCustomers returns the customer server.
func NewCustomers(svc *customer.Service, log *slog.Logger) *Customers {
	return &Customers{svc: svc, log: log}
}

// tenantOf returns the tenant of the call. The server interceptor refuses
// calls without one, so its absence here is a wiring mistake; refusing
// keeps a call from ever acting for no tenant.
func tenantOf(ctx context.Context) (string, error) {
	id, ok := tenancy.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "missing tenant")
	}
	return id, nil
}
