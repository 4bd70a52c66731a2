package grpcapi

import (
	"context"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
)

// ListCustomers implements the RPC.
func (s *Customers) ListCustomers(ctx context.Context, req *customerv1.ListCustomersRequest) (*customerv1.ListCustomersResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f := customer.Filter{Territory: req.GetTerritory(), NamePrefix: req.GetNamePrefix()}
	if f.Status, err = statusFromProto(req.GetStatus()); err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	cs, next, err := listPage(req.GetPageSize(), req.GetPageToken(),
		pagetoken.Query("customers", tenantID, req.GetStatus().String(), f.Territory, f.NamePrefix),
		func(after pagePos, limit int) ([]record.Customer, error) {
			return s.svc.List(ctx, tenantID, f, after.ID, limit)
		},
		func(c record.Customer) pagePos { return pagePos{ID: c.ID} })
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListCustomersResponse{NextPageToken: next, Customers: make([]*customerv1.Customer, len(cs))}
	for i, c := range cs {
		resp.Customers[i] = customerToProto(c)
	}
	return resp, nil
}
