// Package grpcapi adapts the history domain to its gRPC contract.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/platform/grpcerr"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// History implements historyv1.HistoryServiceServer over the history
// domain. Every call acts for the tenant the interceptor put in the context.
type History struct {
	historyv1.UnimplementedHistoryServiceServer
	svc *history.Service
	log *slog.Logger
}

var _ historyv1.HistoryServiceServer = (*History)(nil)

// NewHistory returns the history server.
func NewHistory(svc *history.Service, log *slog.Logger) *History {
	return &History{svc: svc, log: log}
}

// tenantOf returns the tenant of the call. The server interceptor refuses
// calls without one, so its absence here is a wiring mistake; refusing keeps
// a call from ever acting for no tenant.
func tenantOf(ctx context.Context) (string, error) {
	id, ok := tenancy.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "missing tenant")
	}
	return id, nil
}

// ListHistory implements the RPC.
func (s *History) ListHistory(ctx context.Context, req *historyv1.ListHistoryRequest) (*historyv1.ListHistoryResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f := history.Filter{CustomerID: req.GetCustomerId(), Currency: req.GetCurrency(), WebsiteID: req.WebsiteId}
	if f.Start, err = optionalTime("start_time", req.GetStartTime()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if f.End, err = optionalTime("end_time", req.GetEndTime()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	c, err := consistency(req.GetConsistency())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	es, next, err := s.svc.List(ctx, tenantID, f, req.GetPageToken(), req.GetPageSize(), c)
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	resp := &historyv1.ListHistoryResponse{Entries: make([]*historyv1.HistoryEntry, len(es)), NextPageToken: next}
	for i, e := range es {
		resp.Entries[i] = entryToProto(e)
	}
	return resp, nil
}

// GetBalanceAt implements the RPC.
func (s *History) GetBalanceAt(ctx context.Context, req *historyv1.GetBalanceAtRequest) (*historyv1.GetBalanceAtResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	at, err := requiredTime("time", req.GetTime())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	c, err := consistency(req.GetConsistency())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	bs, totals, err := s.svc.BalancesAt(ctx, tenantID, req.GetCustomerId(), req.GetCurrency(), req.WebsiteId, at, c)
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	resp := &historyv1.GetBalanceAtResponse{}
	for _, b := range bs {
		resp.Balances = append(resp.Balances, &historyv1.BalanceAt{
			Currency: b.Currency, WebsiteId: b.WebsiteID, Balance: amount(b.Balance), LastHistoryId: b.LastHistoryID,
		})
	}
	for _, t := range totals {
		resp.Totals = append(resp.Totals, &historyv1.CurrencyTotal{Currency: t.Currency, Balance: amount(t.Balance)})
	}
	return resp, nil
}

// GetStatement implements the RPC.
func (s *History) GetStatement(ctx context.Context, req *historyv1.GetStatementRequest) (*historyv1.GetStatementResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	start, err := requiredTime("start_time", req.GetStartTime())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	end, err := requiredTime("end_time", req.GetEndTime())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	c, err := consistency(req.GetConsistency())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	st, err := s.svc.Statement(ctx, tenantID, req.GetCustomerId(), req.GetCurrency(), req.WebsiteId, start, end, c)
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	resp := &historyv1.GetStatementResponse{
		CustomerId: st.CustomerID, Currency: st.Currency,
		StartTime: timestamppb.New(st.Start), EndTime: timestamppb.New(st.End),
		OpeningBalance: amount(st.OpeningBalance), ClosingBalance: amount(st.ClosingBalance),
	}
	for _, k := range st.Totals {
		resp.Totals = append(resp.Totals, &historyv1.KindTotal{Kind: k.Kind, Action: k.Action, Total: amount(k.Total), EntryCount: k.Count})
	}
	return resp, nil
}

// GetLag implements the RPC.
func (s *History) GetLag(ctx context.Context, _ *historyv1.GetLagRequest) (*historyv1.GetLagResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	l, err := s.svc.Lag(ctx, tenantID)
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	resp := &historyv1.GetLagResponse{
		EntriesBehind: l.EntriesBehind, TimeBehind: durationpb.New(l.TimeBehind), Cursor: l.Cursor, Connected: l.Connected,
	}
	if !l.DisconnectedSince.IsZero() {
		resp.DisconnectedSince = timestamppb.New(l.DisconnectedSince)
	}
	if !l.HeadTime.IsZero() {
		resp.HeadTime = timestamppb.New(l.HeadTime)
	}
	return resp, nil
}

func entryToProto(e history.Entry) *historyv1.HistoryEntry {
	return &historyv1.HistoryEntry{
		HistoryId: e.HistoryID, BalanceId: e.BalanceID, UpdateTime: timestamppb.New(e.UpdatedAt),
		Action: e.Action, Kind: e.Kind, BalanceAmount: amount(e.BalanceAmount), BalanceDelta: amount(e.BalanceDelta),
		AdditionalInfo: e.AdditionalInfo, CustomerNotified: e.CustomerNotified, CustomerId: e.CustomerID,
		WebsiteId: e.WebsiteID, Currency: e.Currency,
	}
}

// amount writes a decimal with the digits it has: NUMERIC keeps the scale
// the ledger posted ("500.00"), and so does the wire.
func amount(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	return d.String()
}

func optionalTime(field string, ts *timestamppb.Timestamp) (*time.Time, error) {
	if ts == nil {
		return nil, nil
	}
	if err := ts.CheckValid(); err != nil {
		return nil, &history.FieldError{Field: field, Rule: "must be a valid timestamp"}
	}
	t := ts.AsTime()
	return &t, nil
}

func requiredTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, &history.FieldError{Field: field, Rule: "is required"}
	}
	t, err := optionalTime(field, ts)
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
}

func consistency(c *historyv1.ReadConsistency) (history.Consistency, error) {
	if c == nil {
		return history.Consistency{}, nil
	}
	out := history.Consistency{MinEntryID: c.GetMinEntryId(), AllowStale: c.GetAllowStale()}
	if c.GetMaxWait() != nil {
		if err := c.GetMaxWait().CheckValid(); err != nil {
			return out, &history.FieldError{Field: "consistency.max_wait", Rule: "must be a valid duration"}
		}
		d := c.GetMaxWait().AsDuration()
		out.MaxWait = &d
	}
	return out, nil
}

// toStatus maps domain errors to gRPC codes, in one place. Internal failures
// are logged and never shown to the client.
func (s *History) toStatus(ctx context.Context, err error) error {
	if st, ok := grpcerr.Field(err); ok {
		return st
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, history.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, history.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, history.ErrNotApplied):
		return status.Error(codes.Unavailable, err.Error()+"; retry")
	case errors.Is(err, history.ErrLedgerUnavailable):
		s.log.WarnContext(ctx, "ledger unavailable", "error", err.Error())
		return status.Error(codes.Unavailable, "cannot learn from the ledger what has been posted, so this read cannot promise to be fresh; retry")
	case errors.Is(err, history.ErrUnavailable):
		s.log.WarnContext(ctx, "dependency unavailable", "error", err.Error())
		return status.Error(codes.Unavailable, "customer service unavailable; retry")
	}
	return grpcerr.Unexpected(ctx, s.log, err)
}
