package grpcapi

import (
	"context"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
)

// CreateCustomer implements the RPC.
func (s *Customers) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCustomer() == nil {
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "customer", Rule: "is required"})
	}
	c, err := customerFromProto(req.GetCustomer(), nil)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	c, err = s.svc.Create(ctx, tenantID, c)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.CreateCustomerResponse{Customer: customerToProto(c)}, nil
}
