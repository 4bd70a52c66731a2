package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Filter selects a customer's history rows.
type Filter struct {
	CustomerID int32
	Currency   string // "" for all
	WebsiteID  *int32 // nil for all
	// Optional half-open range [Start, End) of updated_at.
	Start, End *time.Time
}

// Position is a place in the newest-first order: the last row of a page.
type Position struct {
	UpdatedAt time.Time
	HistoryID int64
}

// args numbers the parameters of a query assembled from optional parts.
// The SQL names only the conditions in force, rather than "$n IS NULL OR
// ...": a generic plan of the latter cannot use the keyset condition as an
// index bound, and deep pages would then scan everything before them.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// ListHistory returns up to limit of the customer's rows newest first
// (updated_at DESC, history_id DESC), those after `after` when it is set.
func (s *Store) ListHistory(ctx context.Context, tenantID string, f Filter, after *Position, limit int) ([]Entry, error) {
	a := args{tenantID, f.CustomerID}
	var rowConds []string
	if f.Start != nil {
		rowConds = append(rowConds, "e.updated_at >= "+a.add(*f.Start))
	}
	if f.End != nil {
		rowConds = append(rowConds, "e.updated_at < "+a.add(*f.End))
	}
	if after != nil {
		rowConds = append(rowConds, "(e.updated_at, e.history_id) < ("+a.add(after.UpdatedAt)+", "+a.add(after.HistoryID)+")")
	}
	lim := a.add(limit)
	const order = ` ORDER BY e.updated_at DESC, e.history_id DESC LIMIT `
	var sql string
	if f.Currency == "" && f.WebsiteID == nil {
		// All the customer's rows: one backward range scan of entries_customer_idx.
		sql = `SELECT ` + entryColumns + ` FROM history.entries e
			WHERE e.tenant_id = $1 AND e.customer_id = $2` + and(rowConds) + order + lim
	} else {
		// Some of the customer's balances: the newest rows of each matching
		// balance (entries_balance_idx), merged. A customer has a handful of
		// balances, so this reads at most a few pages' worth of index.
		var balConds []string
		if f.Currency != "" {
			balConds = append(balConds, "b.currency = "+a.add(f.Currency))
		}
		if f.WebsiteID != nil {
			balConds = append(balConds, "b.website_id = "+a.add(*f.WebsiteID))
		}
		sql = `SELECT ` + entryColumns + ` FROM history.balances b
			CROSS JOIN LATERAL (
				SELECT * FROM history.entries e
				WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id` + and(rowConds) + order + lim + `
			) e
			WHERE b.tenant_id = $1 AND b.customer_id = $2` + and(balConds) + order + lim
	}
	// Planned with the page's own bounds each time (an unnamed statement):
	// the cached generic plan, blind to the cursor and the limit, was
	// measured 20-35% slower on deep pages (bench history).
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, a...)...)
	if err != nil {
		return nil, wrap(err, "list history")
	}
	es, err := pgx.CollectRows(rows, scanEntry)
	return es, wrap(err, "list history")
}

func and(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}

// BalanceAt is one balance as it stood at an instant: the balance after its
// last row at (or before) the instant.
type BalanceAt struct {
	BalanceID     int64
	Currency      string
	WebsiteID     int32
	Balance       decimal.Decimal
	LastHistoryID int64
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// BalancesAt returns the customer's balances as they stood at t, ordered by
// currency and website: for each balance, the row with the greatest
// (updated_at, history_id) with updated_at <= t (< t when before is set).
// Balances without such a row are left out. One index probe per balance.
func (s *Store) BalancesAt(ctx context.Context, tenantID string, customerID int32, currency string, websiteID *int32, t time.Time, before bool) ([]BalanceAt, error) {
	return balancesAt(ctx, s.pool, tenantID, customerID, currency, websiteID, t, before)
}

func balancesAt(ctx context.Context, q querier, tenantID string, customerID int32, currency string, websiteID *int32, t time.Time, before bool) ([]BalanceAt, error) {
	a := args{tenantID, customerID}
	op := "<="
	if before {
		op = "<"
	}
	at := a.add(t)
	var conds []string
	if currency != "" {
		conds = append(conds, "b.currency = "+a.add(currency))
	}
	if websiteID != nil {
		conds = append(conds, "b.website_id = "+a.add(*websiteID))
	}
	rows, err := q.Query(ctx, `
		SELECT b.balance_id, b.currency, b.website_id, l.balance_amount, l.history_id
		FROM history.balances b
		CROSS JOIN LATERAL (
			SELECT e.balance_amount, e.history_id FROM history.entries e
			WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id AND e.updated_at `+op+` `+at+`
			ORDER BY e.updated_at DESC, e.history_id DESC
			LIMIT 1
		) l
		WHERE b.tenant_id = $1 AND b.customer_id = $2`+and(conds)+`
		ORDER BY b.currency, b.website_id`, a...)
	if err != nil {
		return nil, wrap(err, "balances at")
	}
	bs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (BalanceAt, error) {
		var b BalanceAt
		err := row.Scan(&b.BalanceID, &b.Currency, &b.WebsiteID, &b.Balance, &b.LastHistoryID)
		return b, err
	})
	return bs, wrap(err, "balances at")
}

// KindTotal sums the deltas of one kind and action.
type KindTotal struct {
	Kind   string
	Action int32
	Total  decimal.Decimal
	Count  int64
}

// Statement is a period [Start, End) of one currency: the balances just
// before Start and just before End, and the rows in between summed per kind
// and action.
type Statement struct {
	Opening, Closing []BalanceAt
	Totals           []KindTotal
}

// Statement reads the three parts of a statement from one snapshot, so that
// rows the projection commits meanwhile appear in all of them or in none.
func (s *Store) Statement(ctx context.Context, tenantID string, customerID int32, currency string, websiteID *int32, start, end time.Time) (Statement, error) {
	var st Statement
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if st.Opening, err = balancesAt(ctx, tx, tenantID, customerID, currency, websiteID, start, true); err != nil {
			return err
		}
		if st.Closing, err = balancesAt(ctx, tx, tenantID, customerID, currency, websiteID, end, true); err != nil {
			return err
		}
		a := args{tenantID, customerID, currency, start, end}
		cond := ""
		if websiteID != nil {
			cond = " AND b.website_id = " + a.add(*websiteID)
		}
		rows, err := tx.Query(ctx, `
			SELECT e.kind, e.action, sum(e.balance_delta), count(*)
			FROM history.balances b
			JOIN history.entries e ON e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id
			WHERE b.tenant_id = $1 AND b.customer_id = $2 AND b.currency = $3`+cond+`
			  AND e.updated_at >= $4 AND e.updated_at < $5
			GROUP BY e.kind, e.action
			ORDER BY e.kind, e.action`, a...)
		if err != nil {
			return err
		}
		st.Totals, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (KindTotal, error) {
			var k KindTotal
			var action int16
			err := row.Scan(&k.Kind, &action, &k.Total, &k.Count)
			k.Action = int32(action)
			return k, err
		})
		return err
	})
	return st, wrap(err, "statement")
}
