// Package store is the history service's PostgreSQL storage in schema
// "history": the rows projected from the ledger's stream, the balances they
// belong to, and each tenant's stream cursor. Every query filters by tenant.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/platform/pglisten"
)

// ErrCursorMoved is a write whose expected stream cursor is no longer the
// stored one: another projector advanced the tenant in between.
var ErrCursorMoved = errors.New("stream cursor moved")

// AppliedChannel is the PostgreSQL notification channel the projection
// notifies, with the tenant id as payload, in each transaction that applies
// rows. Readers waiting for an entry listen on it.
const AppliedChannel = "history_applied"

// Store reads and writes the history schema.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Entry is a history row: one ledger entry.
type Entry struct {
	HistoryID        int64 // the ledger entry id
	BalanceID        int64
	CustomerID       int32
	Currency         string
	WebsiteID        int32
	Kind             string
	Action           int32
	BalanceDelta     decimal.Decimal
	BalanceAmount    decimal.Decimal // after this row
	AdditionalInfo   string
	CustomerNotified bool
	UpdatedAt        time.Time // the ledger's post time
}

const entryColumns = `e.history_id, e.balance_id, e.customer_id, e.currency, e.website_id, e.kind, e.action,
	e.balance_delta, e.balance_amount, e.additional_info, e.customer_notified, e.updated_at`

func scanEntry(row pgx.CollectableRow) (Entry, error) {
	var e Entry
	var action int16
	err := row.Scan(&e.HistoryID, &e.BalanceID, &e.CustomerID, &e.Currency, &e.WebsiteID, &e.Kind, &action,
		&e.BalanceDelta, &e.BalanceAmount, &e.AdditionalInfo, &e.CustomerNotified, &e.UpdatedAt)
	e.Action = int32(action)
	e.UpdatedAt = e.UpdatedAt.UTC()
	return e, err
}

// Cursor returns the tenant's stored stream cursor, "" before the first
// entry. It creates the tenant's row, so that every later write can
// compare-and-set it.
func (s *Store) Cursor(ctx context.Context, tenantID string) (string, error) {
	var cursor string
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO history.stream_cursors (tenant_id, cursor) VALUES ($1, '')
			ON CONFLICT (tenant_id) DO NOTHING
			RETURNING cursor)
		SELECT cursor FROM ins
		UNION ALL
		SELECT cursor FROM history.stream_cursors WHERE tenant_id = $1`, tenantID).Scan(&cursor)
	return cursor, wrap(err, "read stream cursor")
}

// StoredCursor returns the tenant's cursor and when it last moved, without
// creating anything; ok is false when the tenant has none.
func (s *Store) StoredCursor(ctx context.Context, tenantID string) (cursor string, updated time.Time, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT cursor, update_time FROM history.stream_cursors WHERE tenant_id = $1`,
		tenantID).Scan(&cursor, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	return cursor, updated, err == nil, wrap(err, "read stream cursor")
}

// Apply writes entries and moves the tenant's cursor from `from` to `to` in
// one transaction, then notifies AppliedChannel. It is
// ErrCursorMoved, writing nothing, when the stored cursor is not `from`.
// Entries already present are skipped (inserted counts the new ones): the
// stream promises exactly once, and the primary key keeps that promise here
// even if a replay ever repeated an entry.
func (s *Store) Apply(ctx context.Context, tenantID, from, to string, entries []Entry) (inserted int, err error) {
	n := len(entries)
	var (
		ids, balanceIDs             = make([]int64, n), make([]int64, n)
		customers, websites, action = make([]int32, n), make([]int32, n), make([]int32, n)
		currencies, kinds, infos    = make([]string, n), make([]string, n), make([]string, n)
		deltas, amounts             = make([]decimal.Decimal, n), make([]decimal.Decimal, n)
		notified                    = make([]bool, n)
		times                       = make([]time.Time, n)
	)
	for i, e := range entries {
		ids[i], balanceIDs[i], customers[i], websites[i], action[i] = e.HistoryID, e.BalanceID, e.CustomerID, e.WebsiteID, e.Action
		currencies[i], kinds[i], infos[i] = e.Currency, e.Kind, e.AdditionalInfo
		deltas[i], amounts[i], notified[i], times[i] = e.BalanceDelta, e.BalanceAmount, e.CustomerNotified, e.UpdatedAt
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		// The compare-and-set: the cursor moves only from the expected one
		// (a tenant without a row yet is at "").
		b.Queue(`INSERT INTO history.stream_cursors (tenant_id, cursor) VALUES ($1, '') ON CONFLICT DO NOTHING`, tenantID)
		moved := b.Queue(`UPDATE history.stream_cursors SET cursor = $3, update_time = now()
			WHERE tenant_id = $1 AND cursor = $2`, tenantID, from, to)
		b.Queue(`INSERT INTO history.balances (tenant_id, balance_id, customer_id, currency, website_id)
			SELECT $1, * FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::integer[])
			ON CONFLICT DO NOTHING`, tenantID, balanceIDs, customers, currencies, websites)
		rows := b.Queue(`INSERT INTO history.entries (tenant_id, history_id, balance_id, customer_id, currency,
				website_id, kind, action, balance_delta, balance_amount, additional_info, customer_notified, updated_at)
			SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::integer[], $7::text[],
				$8::smallint[], $9::numeric[], $10::numeric[], $11::text[], $12::boolean[], $13::timestamptz[])
			ON CONFLICT DO NOTHING`,
			tenantID, ids, balanceIDs, customers, currencies, websites, kinds, action, deltas, amounts, infos, notified, times)
		var updated int64
		moved.Exec(func(tag pgconn.CommandTag) error { updated = tag.RowsAffected(); return nil })
		rows.Exec(func(tag pgconn.CommandTag) error { inserted = int(tag.RowsAffected()); return nil })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if updated != 1 {
			return ErrCursorMoved
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err, "apply entries")
	}
	// After COMMIT, in a transaction of its own: a NOTIFY inside the
	// writing transaction holds PostgreSQL's global notify lock across the
	// commit's WAL flush, which serialises every notifying commit of the
	// cluster (the ledger's too). A notification lost to a crash here only
	// delays a waiting reader until its next check.
	_, _ = s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, AppliedChannel, tenantID)
	return inserted, nil
}

// HasEntry reports whether the tenant's history has the row of ledger entry id.
func (s *Store) HasEntry(ctx context.Context, tenantID string, id int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM history.entries WHERE tenant_id = $1 AND history_id = $2)`,
		tenantID, id).Scan(&ok)
	return ok, wrap(err, "look up entry")
}

// HasCustomer reports whether the tenant's history has rows of the customer.
func (s *Store) HasCustomer(ctx context.Context, tenantID string, customerID int32) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM history.balances WHERE tenant_id = $1 AND customer_id = $2)`,
		tenantID, customerID).Scan(&ok)
	return ok, wrap(err, "look up customer")
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ListenApplied keeps a LISTEN on AppliedChannel until ctx ends,
// reconnecting within about a second when it fails (pglisten.Run); it
// calls listening each time the LISTEN is in place and notified with the
// tenant of each projection commit.
func (s *Store) ListenApplied(ctx context.Context, log *slog.Logger, listening func(), notified func(tenantID string)) {
	pglisten.Run(ctx, s.pool, AppliedChannel, "applied-entry notifications", log, pglisten.Handler{
		Listening: listening, Notified: notified,
	})
}
