package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// Each migration runs on the data of the versions before it, and after the
// last one the cursor and the rows are there, the code reads them, and the
// projection goes on from the stored cursor.
func TestMigrationsKeepData(t *testing.T) {
	t.Parallel()
	const tenant = "5a1c0e2d-0000-4000-8000-000000000001"
	pool := pgtest.MigrateStepwise(t, "history", migrations.FS, map[int64]func(context.Context, *pgxpool.Pool) error{
		1: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `INSERT INTO history.stream_cursors (tenant_id, cursor) VALUES ($1, 'c0')`, tenant)
			return err
		},
		// Two rows of one balance and the cursor past them, in one
		// transaction as the projection writes them.
		2: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `
				WITH b AS (
					INSERT INTO history.balances (tenant_id, balance_id, customer_id, currency, website_id)
					VALUES ($1, 7, 4, 'USD', 2)
				), e AS (
					INSERT INTO history.entries (tenant_id, history_id, balance_id, customer_id, currency, website_id,
						kind, action, balance_delta, balance_amount, additional_info, customer_notified, updated_at)
					VALUES ($1, 11, 7, 4, 'USD', 2, 'ORDER', 0, 500.00, 500.00, 'first', false, $2),
					       ($1, 12, 7, 4, 'USD', 2, 'STORE_CREDIT', 3, -200.00, 300.00, 'second', true, $2::timestamptz + interval '1 minute')
				)
				UPDATE history.stream_cursors SET cursor = 'c2', update_time = now() WHERE tenant_id = $1`, tenant, t0)
			return err
		},
	})
	ctx := t.Context()
	s := store.New(pool)

	if c, err := s.Cursor(ctx, tenant); err != nil || c != "c2" {
		t.Fatalf("cursor = %q, %v; want c2", c, err)
	}
	next := store.Entry{HistoryID: 13, BalanceID: 7, CustomerID: 4, Currency: "USD", WebsiteID: 2, Kind: "ADJUSTMENT",
		BalanceDelta: dec("1"), BalanceAmount: dec("301"), UpdatedAt: t0.Add(2 * time.Minute)}
	apply(t, s, tenant, "c2", "c3", []store.Entry{next})
	es, err := s.ListHistory(ctx, tenant, store.Filter{CustomerID: 4}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Entry{
		next,
		{HistoryID: 12, BalanceID: 7, CustomerID: 4, Currency: "USD", WebsiteID: 2, Kind: "STORE_CREDIT", Action: 3,
			BalanceDelta: dec("-200.00"), BalanceAmount: dec("300.00"), AdditionalInfo: "second", CustomerNotified: true,
			UpdatedAt: t0.Add(time.Minute)},
		{HistoryID: 11, BalanceID: 7, CustomerID: 4, Currency: "USD", WebsiteID: 2, Kind: "ORDER",
			BalanceDelta: dec("500.00"), BalanceAmount: dec("500.00"), AdditionalInfo: "first", UpdatedAt: t0},
	}
	if diff := cmp.Diff(want, es, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	bs, err := s.BalancesAt(ctx, tenant, 4, "USD", nil, t0.Add(90*time.Second), false)
	if err != nil || len(bs) != 1 || bs[0].Balance.String() != "300" {
		t.Errorf("balance at t0+90s = %+v, %v; want 300", bs, err)
	}
}
