package grpcapi

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
	"github.com/abacus-ledger/abacus/services/platform/fielderr"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// IdempotencyKeyMetadata is the incoming metadata that carries an
// idempotency key when the request field is empty; the gateway forwards
// the HTTP Idempotency-Key header there.
const IdempotencyKeyMetadata = "idempotency-key"

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// Server implements ledgerv1.LedgerServiceServer over the ledger domain.
// Every call acts for the tenant the interceptor put in the context.
type Server struct {
	ledgerv1.UnimplementedLedgerServiceServer
	svc *ledger.Service
	log *slog.Logger
}

var _ ledgerv1.LedgerServiceServer = (*Server)(nil)

// New returns the ledger server.
func New(svc *ledger.Service, log *slog.Logger) *Server {
	return &Server{svc: svc, log: log}
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

// idempotencyKey is the request's key, or else the metadata's. A key sent
// twice in the metadata is refused rather than one of them picked: the
// caller's intent is unclear. The domain checks the key's syntax.
func idempotencyKey(ctx context.Context, field string) (string, error) {
	if field != "" {
		return field, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	switch v := md.Get(IdempotencyKeyMetadata); len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", &ledger.FieldError{Field: "idempotency_key", Rule: "must be sent once"}
	}
}

// PostEntry implements the RPC.
func (s *Server) PostEntry(ctx context.Context, req *ledgerv1.PostEntryRequest) (*ledgerv1.PostEntryResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetPosting() == nil {
		return nil, toStatus(ctx, s.log, &ledger.FieldError{Field: "posting", Rule: "is required"})
	}
	key, err := idempotencyKey(ctx, req.GetIdempotencyKey())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	res, err := s.svc.Post(ctx, tenantID, key, postingFromProto(req.GetPosting()))
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &ledgerv1.PostEntryResponse{
		Entry: entryToProto(res.Entries[0]), Balance: balanceToProto(res.Balances[0]), Replayed: res.Replayed,
	}, nil
}

// BatchPostEntries implements the RPC.
func (s *Server) BatchPostEntries(ctx context.Context, req *ledgerv1.BatchPostEntriesRequest) (*ledgerv1.BatchPostEntriesResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	key, err := idempotencyKey(ctx, req.GetIdempotencyKey())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	ps := make([]ledger.Posting, len(req.GetPostings()))
	for i, p := range req.GetPostings() {
		ps[i] = postingFromProto(p)
	}
	res, err := s.svc.PostBatch(ctx, tenantID, key, ps)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &ledgerv1.BatchPostEntriesResponse{
		Entries: entriesToProto(res.Entries), Balances: balancesToProto(res.Balances), Replayed: res.Replayed,
	}, nil
}

// ListEntries implements the RPC.
func (s *Server) ListEntries(ctx context.Context, req *ledgerv1.ListEntriesRequest) (*ledgerv1.ListEntriesResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, toStatus(ctx, s.log, &ledger.FieldError{Field: "page_size", Rule: "must be >= 0"})
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	f := ledger.EntryFilter{CustomerID: req.GetCustomerId(), Currency: req.GetCurrency()}
	var website any
	if req.WebsiteId != nil {
		w := req.GetWebsiteId()
		f.WebsiteID, website = &w, w
	}
	// The token is the stream position of the page's last (oldest) entry.
	query := pagetoken.Query("entries", tenantID, f.CustomerID, f.Currency, website)
	var before int64
	if tok := req.GetPageToken(); tok != "" {
		if before, err = pagetoken.Decode[int64](tok, query); err == nil && before <= 0 {
			err = fielderr.New(pagetoken.Field, "is malformed")
		}
		if err != nil {
			return nil, toStatus(ctx, s.log, err)
		}
	}
	es, err := s.svc.ListEntries(ctx, tenantID, f, before, size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &ledgerv1.ListEntriesResponse{}
	if len(es) > size {
		es = es[:size]
		resp.NextPageToken = pagetoken.Encode(query, es[len(es)-1].StreamSeq)
	}
	resp.Entries = entriesToProto(es)
	return resp, nil
}

// GetBalances implements the RPC.
func (s *Server) GetBalances(ctx context.Context, req *ledgerv1.GetBalancesRequest) (*ledgerv1.GetBalancesResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	sums, balances, err := s.svc.Balances(ctx, tenantID, req.GetCustomerId(), req.GetCurrency())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &ledgerv1.GetBalancesResponse{Balances: balancesToProto(balances)}
	for _, c := range sums {
		resp.CurrencyBalances = append(resp.CurrencyBalances, &ledgerv1.CurrencyBalance{
			Currency: c.Currency, Description: c.Description, Scale: c.Scale, Balance: ledger.FormatAmount(c.Amount, c.Scale),
		})
	}
	return resp, nil
}

// ListCurrencies implements the RPC.
func (s *Server) ListCurrencies(ctx context.Context, _ *ledgerv1.ListCurrenciesRequest) (*ledgerv1.ListCurrenciesResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.svc.Currencies(ctx, tenantID)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &ledgerv1.ListCurrenciesResponse{Currencies: make([]*ledgerv1.Currency, len(cs))}
	for i, c := range cs {
		resp.Currencies[i] = &ledgerv1.Currency{Code: c.Code, Description: c.Description, Scale: c.Scale}
	}
	return resp, nil
}

// sendError is a failure to send on the stream: the client has gone, and
// the error is gRPC's own.
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }
func (e sendError) Unwrap() error { return e.err }

// WatchEntries implements the RPC.
func (s *Server) WatchEntries(req *ledgerv1.WatchEntriesRequest, stream grpc.ServerStreamingServer[ledgerv1.WatchEntriesResponse]) error {
	ctx := stream.Context()
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	after, err := decodeCursor(req.GetCursor())
	if err != nil {
		return toStatus(ctx, s.log, err)
	}
	err = s.svc.Watch(ctx, tenantID, after, func(e ledger.Entry) error {
		if err := stream.Send(&ledgerv1.WatchEntriesResponse{Entry: entryToProto(e), Cursor: encodeCursor(e.StreamSeq), Continues: e.Continues}); err != nil {
			return sendError{err}
		}
		return nil
	})
	var se sendError
	if errors.As(err, &se) {
		return se.err
	}
	return toStatus(ctx, s.log, err)
}

// GetStreamHead implements the RPC.
func (s *Server) GetStreamHead(ctx context.Context, req *ledgerv1.GetStreamHeadRequest) (*ledgerv1.GetStreamHeadResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeCursor(req.GetCursor())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	h, err := s.svc.StreamHead(ctx, tenantID, after)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &ledgerv1.GetStreamHeadResponse{EntriesAfterCursor: h.Behind, HeadEntryId: h.LastEntryID}
	if h.LastSeq > 0 {
		resp.HeadCursor = encodeCursor(h.LastSeq)
	}
	if !h.FirstAfter.IsZero() {
		resp.FirstAfterCursorTime = timestamppb.New(h.FirstAfter)
	}
	return resp, nil
}
