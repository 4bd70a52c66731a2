package grpcapi

import (
	"context"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/record"
)

// GetCustomer implements the RPC.
func (s *Customers) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.Get(ctx, tenantID, req.GetCustomerId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.GetCustomerResponse{Customer: customerToProto(c)}, nil
}

// LookupCustomer implements the RPC.
func (s *Customers) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var c record.Customer
	switch by := req.GetBy().(type) {
	case *customerv1.LookupCustomerRequest_CustomerKey:
		c, err = s.svc.LookupByKey(ctx, tenantID, by.CustomerKey)
	case *customerv1.LookupCustomerRequest_CustomerNumber:
		c, err = s.svc.LookupByNumber(ctx, tenantID, by.CustomerNumber)
	case *customerv1.LookupCustomerRequest_Name:
		c, err = s.svc.LookupByName(ctx, tenantID, by.Name)
	default:
		err = &customer.FieldError{Field: "by", Rule: "one of customer_key, customer_number or name is required"}
	}
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.LookupCustomerResponse{Customer: customerToProto(c)}, nil
}
