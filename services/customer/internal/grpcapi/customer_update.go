package grpcapi

import (
	"context"
	"slices"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
)

// UpdateCustomer implements the RPC.
func (s *Customers) UpdateCustomer(ctx context.Context, req *customerv1.UpdateCustomerRequest) (*customerv1.UpdateCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case req.GetCustomer() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "customer", Rule: "is required"})
	case req.GetUpdateMask() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "update_mask", Rule: "is required"})
	}
	// version is the update's precondition, not a field it changes; a mask
	// the JSON facade derives from a body that carries it names it too.
	paths := slices.DeleteFunc(slices.Clone(req.GetUpdateMask().GetPaths()), func(p string) bool { return p == "version" })
	named := make(map[string]bool, len(paths))
	for _, p := range paths {
		named[p] = true
	}
	// Only the named fields are converted: a value the mask leaves out is
	// ignored, even when it would not parse.
	c, err := customerFromProto(req.GetCustomer(), named)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	c, err = s.svc.Update(ctx, tenantID, c, paths, req.GetCustomer().GetVersion())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.UpdateCustomerResponse{Customer: customerToProto(c)}, nil
}
