// Package store is the ledger service's PostgreSQL storage in schema
// "ledger": currencies per tenant, balances, entries, idempotency keys and
// the change stream's counters. Every query filters by tenant.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// ErrCommitUnknown is a COMMIT that failed without the server saying so
// (the connection broke): the transaction may or may not have committed.
var ErrCommitUnknown = errors.New("commit outcome unknown")

// Store reads and writes the ledger schema.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Refused reports whether err is the server refusing a statement of a
// transaction (a constraint, a trigger, bad data) as opposed to a broken
// connection or a cancelled context. Such a transaction is certainly rolled
// back and its statements would fail again with the same input.
func Refused(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) != 5 {
		return false
	}
	switch pe.Code[:2] {
	case "08", "57", "53", "58", "XX": // connection, operator intervention, resources, system, internal
		return false
	}
	return !Retryable(err)
}

// Retryable reports whether err is a serialization failure or a deadlock:
// the same transaction may succeed when run again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Currency is a row of a tenant's currency table.
type Currency struct {
	Code        string
	Description string
	Scale       int32
}

// Currencies returns the tenant's currency table ordered by code, seeding it
// from ledger.default_currencies on the tenant's first use.
func (s *Store) Currencies(ctx context.Context, tenantID string) ([]Currency, error) {
	cs, err := s.listCurrencies(ctx, tenantID)
	if err != nil || len(cs) > 0 {
		return cs, err
	}
	// Concurrent first uses both insert; ON CONFLICT makes that harmless.
	// The tenant's stream counter starts here too, outside any posting
	// transaction: a posting never posts before its tenant's currencies are
	// read, and an INSERT ... ON CONFLICT in the posting transaction would
	// wait on the counter row another committer holds.
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO ledger.currencies (tenant_id, code, description, scale)
		SELECT $1, code::text, description, scale FROM ledger.default_currencies
		ON CONFLICT DO NOTHING`, tenantID); err != nil {
		return nil, wrap(err, "seed currencies")
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO ledger.streams (tenant_id, last_seq) VALUES ($1, 0)
		ON CONFLICT DO NOTHING`, tenantID); err != nil {
		return nil, wrap(err, "start stream")
	}
	return s.listCurrencies(ctx, tenantID)
}

func (s *Store) listCurrencies(ctx context.Context, tenantID string) ([]Currency, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, description, scale FROM ledger.currencies
		WHERE tenant_id = $1 ORDER BY code`, tenantID)
	if err != nil {
		return nil, wrap(err, "list currencies")
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Currency, error) {
		var c Currency
		var scale int16
		err := row.Scan(&c.Code, &c.Description, &scale)
		c.Scale = int32(scale)
		return c, err
	})
	return cs, wrap(err, "list currencies")
}

// Entry is a row of ledger.entries, with the scale of its currency.
type Entry struct {
	TenantID       string
	EntryID        int64
	StreamSeq      int64
	BalanceID      int64
	CustomerID     int32
	Currency       string
	WebsiteID      int32
	Kind           string
	Action         int32
	Delta          decimal.Decimal
	BalanceAfter   decimal.Decimal
	IdempotencyKey string
	Comment        string
	NotifyCustomer bool
	PostTime       time.Time
	Scale          int32
	// Continues is true when the next entry of the stream was written by
	// the same transaction; only ReadStream sets it.
	Continues bool
	xmin      int64 // the writing transaction's id; only ReadStream reads it
}

// entryColumns is the select list scanEntry reads, over entries e joined
// with currencies c.
const entryColumns = `e.tenant_id::text, e.entry_id, e.stream_seq, e.balance_id, e.customer_id, e.currency,
	e.website_id, e.kind, e.action, e.delta, e.balance_after, e.idempotency_key, e.comment,
	e.notify_customer, e.post_time, c.scale`

const entriesFrom = ` FROM ledger.entries e
	JOIN ledger.currencies c ON c.tenant_id = e.tenant_id AND c.code = e.currency `

// scanEntry reads entryColumns, and the transaction id when the row has
// one more column.
func scanEntry(row pgx.CollectableRow) (Entry, error) {
	var e Entry
	var action, scale int16
	dest := []any{&e.TenantID, &e.EntryID, &e.StreamSeq, &e.BalanceID, &e.CustomerID, &e.Currency,
		&e.WebsiteID, &e.Kind, &action, &e.Delta, &e.BalanceAfter, &e.IdempotencyKey, &e.Comment,
		&e.NotifyCustomer, &e.PostTime, &scale}
	if len(row.FieldDescriptions()) > len(dest) {
		dest = append(dest, &e.xmin)
	}
	err := row.Scan(dest...)
	e.Action, e.Scale = int32(action), int32(scale)
	e.PostTime = e.PostTime.UTC()
	return e, err
}

func queryEntries(ctx context.Context, q querier, what, sql string, args ...any) ([]Entry, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	es, err := pgx.CollectRows(rows, scanEntry)
	return es, wrap(err, what)
}

// EntryFilter selects a customer's entries.
type EntryFilter struct {
	CustomerID int32
	Currency   string // "" for all
	WebsiteID  *int32 // nil for all
}

// ListEntries returns up to limit of the customer's entries newest first
// (by stream order), those before stream sequence beforeSeq when it is not 0.
func (s *Store) ListEntries(ctx context.Context, tenantID string, f EntryFilter, beforeSeq int64, limit int) ([]Entry, error) {
	return queryEntries(ctx, s.pool, "list entries", `SELECT `+entryColumns+entriesFrom+`
		WHERE e.tenant_id = $1 AND e.customer_id = $2
		  AND ($3 = '' OR e.currency = $3)
		  AND ($4::integer IS NULL OR e.website_id = $4)
		  AND ($5 = 0 OR e.stream_seq < $5)
		ORDER BY e.stream_seq DESC
		LIMIT $6`, tenantID, f.CustomerID, f.Currency, f.WebsiteID, beforeSeq, limit)
}

// ReadStream returns up to limit of the tenant's entries after stream
// sequence afterSeq, in stream order, each with Continues set.
//
// A transaction's entries of one tenant take consecutive stream positions
// and share the transaction's id (xmin), and they become visible together:
// so an entry whose successor has its xmin is not the last of its
// transaction. A follower that ends its own batches only where Continues
// is false never applies part of a transaction, such as part of an atomic
// batch. (Ids are reused after about four billion transactions; two
// neighbouring entries of different transactions sharing one would only
// join their transactions, never split one.)
func (s *Store) ReadStream(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]Entry, error) {
	// One row past the page tells whether the page's last entry continues.
	// (Computing it per row in SQL costs a probe per row of whatever plan
	// PostgreSQL picks, before the LIMIT: measured, it starved the stream.)
	es, err := queryEntries(ctx, s.pool, "read stream", `SELECT `+entryColumns+`, e.xmin::text::bigint`+entriesFrom+`
		WHERE e.tenant_id = $1 AND e.stream_seq > $2
		ORDER BY e.stream_seq
		LIMIT $3`, tenantID, afterSeq, limit+1)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(es); i++ {
		es[i].Continues = es[i+1].xmin == es[i].xmin && es[i+1].StreamSeq == es[i].StreamSeq+1
	}
	// A last entry without a visible successor ends its transaction: a
	// transaction's entries become visible together.
	return es[:min(len(es), limit)], nil
}

// Balance is a row of ledger.balances with its currency's description and
// scale.
type Balance struct {
	BalanceID   int64
	CustomerID  int32
	Currency    string
	Description string
	Scale       int32
	WebsiteID   int32
	Balance     decimal.Decimal
	LastEntryID int64
	UpdateTime  time.Time
}

// Balances returns the customer's balances that have entries, ordered by
// currency and website; currency "" means all.
func (s *Store) Balances(ctx context.Context, tenantID string, customerID int32, currency string) ([]Balance, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT b.balance_id, b.customer_id, b.currency, c.description, c.scale, b.website_id,
		       b.balance, b.last_entry_id, b.update_time
		FROM ledger.balances b
		JOIN ledger.currencies c ON c.tenant_id = b.tenant_id AND c.code = b.currency
		WHERE b.tenant_id = $1 AND b.customer_id = $2 AND ($3 = '' OR b.currency = $3)
		  AND b.last_entry_id IS NOT NULL
		ORDER BY b.currency, b.website_id`, tenantID, customerID, currency)
	if err != nil {
		return nil, wrap(err, "list balances")
	}
	bs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Balance, error) {
		var b Balance
		var scale int16
		err := row.Scan(&b.BalanceID, &b.CustomerID, &b.Currency, &b.Description, &scale, &b.WebsiteID,
			&b.Balance, &b.LastEntryID, &b.UpdateTime)
		b.Scale, b.UpdateTime = int32(scale), b.UpdateTime.UTC()
		return b, err
	})
	return bs, wrap(err, "list balances")
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// StreamHead is where a tenant's change stream ends and how far a position
// is behind that end.
type StreamHead struct {
	// LastSeq is the stream position of the last committed entry; 0 when
	// the tenant has none.
	LastSeq int64
	// LastEntryID is the id of the last committed entry; 0 when none.
	LastEntryID int64
	// FirstAfter is the post time of the entry just after the position
	// asked about; zero when there is none.
	FirstAfter time.Time
}

// StreamHead reads the tenant's stream counter, its last entry and the
// entry after afterSeq: three primary-key probes, in one snapshot. Stream positions are dense (each
// posting transaction advances the counter by its entries, and a rollback
// undoes the advance), so LastSeq - afterSeq entries follow afterSeq.
func (s *Store) StreamHead(ctx context.Context, tenantID string, afterSeq int64) (StreamHead, error) {
	var h StreamHead
	var first *time.Time
	var lastID *int64
	err := s.pool.QueryRow(ctx, `
		SELECT h.last_seq,
		       (SELECT entry_id FROM ledger.entries WHERE tenant_id = $1 AND stream_seq = h.last_seq),
		       (SELECT post_time FROM ledger.entries WHERE tenant_id = $1 AND stream_seq = $2 + 1)
		FROM (SELECT coalesce((SELECT last_seq FROM ledger.streams WHERE tenant_id = $1), 0) AS last_seq) h`,
		tenantID, afterSeq).Scan(&h.LastSeq, &lastID, &first)
	if err != nil {
		return StreamHead{}, wrap(err, "read stream head")
	}
	if first != nil {
		h.FirstAfter = first.UTC()
	}
	if lastID != nil {
		h.LastEntryID = *lastID
	}
	return h, nil
}
