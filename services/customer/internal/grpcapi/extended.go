package grpcapi

import (
	"context"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
)

// GetCustomerExtended implements the RPC.
func (s *Customers) GetCustomerExtended(ctx context.Context, req *customerv1.GetCustomerExtendedRequest) (*customerv1.GetCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.svc.GetExtended(ctx, tenantID, req.GetCustomerId(), req.GetExtendedGroupId(), req.GetCustomerExtendedId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.GetCustomerExtendedResponse{Extended: extendedToProto(e)}, nil
}

// ListCustomerExtended implements the RPC.
func (s *Customers) ListCustomerExtended(ctx context.Context, req *customerv1.ListCustomerExtendedRequest) (*customerv1.ListCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	es, next, err := listPage(req.GetPageSize(), req.GetPageToken(),
		pagetoken.Query("extended", tenantID, req.GetCustomerId(), req.GetExtendedGroupId()),
		func(after pagePos, limit int) ([]record.Extended, error) {
			return s.svc.ListExtended(ctx, tenantID, req.GetCustomerId(), req.GetExtendedGroupId(),
				record.ExtendedPage{GroupID: after.Group, ExtendedID: after.ID}, limit)
		},
		func(e record.Extended) pagePos { return pagePos{Group: e.GroupID, ID: e.ExtendedID} })
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListCustomerExtendedResponse{NextPageToken: next, Extended: make([]*customerv1.CustomerExtended, len(es))}
	for i, e := range es {
		resp.Extended[i] = extendedToProto(e)
	}
	return resp, nil
}

// UpdateCustomerExtended implements the RPC.
func (s *Customers) UpdateCustomerExtended(ctx context.Context, req *customerv1.UpdateCustomerExtendedRequest) (*customerv1.UpdateCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case req.GetFields() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "fields", Rule: "is required"})
	case req.GetUpdateMask() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "update_mask", Rule: "is required"})
	}
	e := record.Extended{
		CustomerID: req.GetCustomerId(),
		GroupID:    req.GetExtendedGroupId(),
		ExtendedID: req.GetCustomerExtendedId(),
		Fields:     extendedFieldsFromProto(req.GetFields()),
	}
	e, err = s.svc.UpdateExtended(ctx, tenantID, e, req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.UpdateCustomerExtendedResponse{Extended: extendedToProto(e)}, nil
}
