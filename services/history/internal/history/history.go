// Package history is the domain of the history read model: a customer's
// history newest first with keyset pages, balances at an instant, period
// statements, and reads that wait until an entry has been applied.
//
// Definitions, since the ledger's post times need not be monotonic along a
// balance's chain:
//
//   - the balance at instant t is the balance after the row with the
//     greatest (updated_at, history_id) whose updated_at <= t;
//   - a statement covers the half-open period [start, end): its opening
//     balance is the balance just before start (updated_at < start), its
//     closing balance the balance just before end (updated_at < end), and
//     its totals sum the rows with start <= updated_at < end. When post
//     times are monotonic per balance, opening + totals = closing.
package history

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/platform/fielderr"
)

// Domain errors; grpcapi maps them to codes in one place.
var (
	ErrInvalid  = fielderr.ErrInvalid
	ErrNotFound = errors.New("not found")
	// ErrNotApplied is a read whose entry was not applied within its wait.
	ErrNotApplied = errors.New("entry not applied yet")
	// ErrUnavailable is a dependency (the customer service) that did not answer.
	ErrUnavailable = errors.New("unavailable")
	// ErrLedgerUnavailable is a read that could not learn the ledger's head,
	// and so cannot promise to see every acknowledged posting.
	ErrLedgerUnavailable = errors.New("ledger unavailable")
)

// FieldError is an invalid value: Field names it (the proto field name) and
// Rule says what it must be. It unwraps to ErrInvalid.
type FieldError = fielderr.Error

func invalid(field, format string, args ...any) error {
	return fielderr.New(field, format, args...)
}

// Entry is a history row. The domain adds nothing to the stored row.
type Entry = store.Entry

// BalanceAt is a balance of one currency and website at an instant.
type BalanceAt = store.BalanceAt

// KindTotal sums the deltas of one kind and action in a period.
type KindTotal = store.KindTotal

// Filter selects a customer's history rows.
type Filter = store.Filter

// CurrencyTotal is a balance of one currency summed over websites.
type CurrencyTotal struct {
	Currency string
	Balance  decimal.Decimal
}

// Statement is a customer's statement of one currency for [Start, End).
type Statement struct {
	CustomerID     int32
	Currency       string
	Start, End     time.Time
	OpeningBalance decimal.Decimal
	Totals         []KindTotal
	ClosingBalance decimal.Decimal
}

// Consistency says how fresh a read must be. Unless AllowStale, a read
// waits until the projection has applied the last entry the ledger had
// committed for the tenant when the read began, so that it sees every
// posting acknowledged before it; and until entry MinEntryID, when set. It
// waits at most MaxWait (DefaultWait when nil, never above MaxWaitLimit),
// and never past its context's deadline.
type Consistency struct {
	MinEntryID int64
	MaxWait    *time.Duration
	AllowStale bool
}

// Wait bounds.
const (
	DefaultWait  = 5 * time.Second
	MaxWaitLimit = 30 * time.Second
)

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// CustomerDirectory tells whether a customer exists; the customer service
// owns customers.
type CustomerDirectory interface {
	CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error)
}

// Lag is how far the projection of a tenant is behind the ledger.
type Lag struct {
	// EntriesBehind counts the entries the ledger has committed that the
	// projection has not applied, measured against the ledger's stream head
	// as of HeadTime.
	EntriesBehind int64
	// TimeBehind is the age of the oldest of them; zero when caught up.
	TimeBehind time.Duration
	Cursor     string
	// Connected is true while this replica has the tenant's stream open.
	Connected bool
	// DisconnectedSince is when the stream went down, while it is down and
	// this replica projects the tenant; zero otherwise.
	DisconnectedSince time.Time
	// HeadTime is when the ledger's head was read; zero when it never could
	// be.
	HeadTime time.Time
}

// LagSource measures the projection of a tenant against the ledger.
type LagSource interface {
	Lag(ctx context.Context, tenantID string) (Lag, error)
	// HeadEntryID is the id of the last entry the ledger has committed for
	// the tenant, now; 0 when it has none.
	HeadEntryID(ctx context.Context, tenantID string) (int64, error)
	// Follow asks for the tenant to be projected now rather than at the next
	// discovery, for a reader waiting on it.
	Follow(tenantID string)
}

// Service answers the history queries.
type Service struct {
	store     *store.Store
	customers CustomerDirectory
	applied   *Applied
	lag       LagSource
}

// NewService returns the service. applied wakes waiting reads; lag may be
// nil when no projector runs in this process.
func NewService(st *store.Store, customers CustomerDirectory, applied *Applied, lag LagSource) *Service {
	return &Service{store: st, customers: customers, applied: applied, lag: lag}
}

// List returns a page of the customer's history newest first and the token
// of the next page ("" after the last).
func (s *Service) List(ctx context.Context, tenantID string, f Filter, pageToken string, pageSize int32, c Consistency) ([]Entry, string, error) {
	if err := checkCustomer(f.CustomerID); err != nil {
		return nil, "", err
	}
	size, err := pageSizeOf(pageSize)
	if err != nil {
		return nil, "", err
	}
	if f.Start != nil && f.End != nil && f.Start.After(*f.End) {
		return nil, "", invalid("start_time", "must not be after end_time")
	}
	f.Start, f.End = ceilMicro(f.Start), ceilMicro(f.End)
	fp := fingerprint(tenantID, f)
	var after *store.Position
	if pageToken != "" {
		pos, err := decodeToken(pageToken, fp)
		if err != nil {
			return nil, "", err
		}
		after = &pos
	}
	if err := s.await(ctx, tenantID, c); err != nil {
		return nil, "", err
	}
	es, err := s.store.ListHistory(ctx, tenantID, f, after, size+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(es) > size {
		es = es[:size]
		last := es[len(es)-1]
		next = encodeToken(fp, store.Position{UpdatedAt: last.UpdatedAt, HistoryID: last.HistoryID})
	}
	if len(es) == 0 && after == nil {
		if err := s.mustExist(ctx, tenantID, f.CustomerID); err != nil {
			return nil, "", err
		}
	}
	return es, next, nil
}

// BalancesAt returns the customer's balances at t, per currency and website
// and summed per currency.
func (s *Service) BalancesAt(ctx context.Context, tenantID string, customerID int32, currency string, websiteID *int32, t time.Time, c Consistency) ([]BalanceAt, []CurrencyTotal, error) {
	if err := checkCustomer(customerID); err != nil {
		return nil, nil, err
	}
	if t.IsZero() {
		return nil, nil, invalid("time", "is required")
	}
	if err := s.await(ctx, tenantID, c); err != nil {
		return nil, nil, err
	}
	// Stored times have microseconds; "at or before t" is "at or before t
	// cut to the microsecond".
	bs, err := s.store.BalancesAt(ctx, tenantID, customerID, currency, websiteID, t.Truncate(time.Microsecond), false)
	if err != nil {
		return nil, nil, err
	}
	if len(bs) == 0 {
		if err := s.mustExist(ctx, tenantID, customerID); err != nil {
			return nil, nil, err
		}
	}
	var totals []CurrencyTotal
	for _, b := range bs { // ordered by currency
		if n := len(totals); n > 0 && totals[n-1].Currency == b.Currency {
			totals[n-1].Balance = totals[n-1].Balance.Add(b.Balance)
			continue
		}
		totals = append(totals, CurrencyTotal{Currency: b.Currency, Balance: b.Balance})
	}
	return bs, totals, nil
}

// Statement returns the customer's statement of currency for [start, end).
func (s *Service) Statement(ctx context.Context, tenantID string, customerID int32, currency string, websiteID *int32, start, end time.Time, c Consistency) (Statement, error) {
	if err := checkCustomer(customerID); err != nil {
		return Statement{}, err
	}
	switch {
	case currency == "":
		return Statement{}, invalid("currency", "is required")
	case start.IsZero():
		return Statement{}, invalid("start_time", "is required")
	case end.IsZero():
		return Statement{}, invalid("end_time", "is required")
	case start.After(end):
		return Statement{}, invalid("start_time", "must not be after end_time")
	}
	if err := s.await(ctx, tenantID, c); err != nil {
		return Statement{}, err
	}
	from, to := ceilMicro(&start), ceilMicro(&end)
	st, err := s.store.Statement(ctx, tenantID, customerID, currency, websiteID, *from, *to)
	if err != nil {
		return Statement{}, err
	}
	if len(st.Closing) == 0 && len(st.Totals) == 0 {
		if err := s.mustExist(ctx, tenantID, customerID); err != nil {
			return Statement{}, err
		}
	}
	out := Statement{CustomerID: customerID, Currency: currency, Start: start, End: end, Totals: st.Totals}
	for _, b := range st.Opening {
		out.OpeningBalance = out.OpeningBalance.Add(b.Balance)
	}
	for _, b := range st.Closing {
		out.ClosingBalance = out.ClosingBalance.Add(b.Balance)
	}
	return out, nil
}

// Lag reports how far the tenant's projection is behind. Without a
// projector in this process only the stored cursor is known.
func (s *Service) Lag(ctx context.Context, tenantID string) (Lag, error) {
	if s.lag != nil {
		return s.lag.Lag(ctx, tenantID)
	}
	cursor, _, _, err := s.store.StoredCursor(ctx, tenantID)
	if err != nil {
		return Lag{}, err
	}
	return Lag{Cursor: cursor}, nil
}

func checkCustomer(id int32) error {
	if id <= 0 {
		return invalid("customer_id", "must be greater than 0")
	}
	return nil
}

func pageSizeOf(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("page_size", "must be >= 0")
	case n == 0:
		return DefaultPageSize, nil
	case n > MaxPageSize:
		return MaxPageSize, nil
	}
	return int(n), nil
}

// ceilMicro rounds a bound up to the stored precision: for a row time r in
// microseconds, r >= t and r < t hold exactly when they hold against t
// rounded up.
func ceilMicro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.Truncate(time.Microsecond)
	if c.Before(*t) {
		c = c.Add(time.Microsecond)
	}
	return &c
}

// mustExist is NOT_FOUND for a customer the tenant does not have. The
// history knows only customers with rows; for the others it asks the
// customer service.
func (s *Service) mustExist(ctx context.Context, tenantID string, customerID int32) error {
	known, err := s.store.HasCustomer(ctx, tenantID, customerID)
	if err != nil || known {
		return err
	}
	exists, err := s.customers.CustomerExists(ctx, tenantID, customerID)
	if err != nil {
		return fmt.Errorf("customer %d: %w: %w", customerID, ErrUnavailable, err)
	}
	if !exists {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	return nil
}
