package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// The migrations go down to nothing and up again cleanly.
func TestMigrationsDownAndUp(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithTableName("ledger.goose_db_version"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'ledger' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("after down: %d tables (%v)", tables, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

const (
	migTenantA = "3e6b5a10-0000-4000-8000-00000000000a" // posts from version 3 on
	migTenantB = "3e6b5a10-0000-4000-8000-00000000000b" // first posts at version 7
)

// v7Posting is a request of one posting with an idempotency key, as the
// previous release sends it to the 22-array ledger.post_group of 00007.
type v7Posting struct {
	tenant   string
	customer int32
	currency string
	website  int32
	delta    string
	key      string
}

// postV7 calls the 22-array ledger.post_group with ps, given in the order
// of their balance keys and of their (tenant, key), one balance each, and
// returns the stream position and balance after of each entry, in order.
func postV7(ctx context.Context, q querier, ps ...v7Posting) (seqs []int64, afters []string, err error) {
	var reqs, customers, websites []int32
	var tenants, currencies, deltas, keys []string
	var hashes [][]byte
	for i, p := range ps {
		reqs, tenants, customers = append(reqs, int32(i+1)), append(tenants, p.tenant), append(customers, p.customer)
		currencies, websites, deltas = append(currencies, p.currency), append(websites, p.website), append(deltas, p.delta)
		keys, hashes = append(keys, p.key), append(hashes, []byte("hash of "+p.key))
	}
	n := len(ps)
	rows, err := q.Query(ctx, `SELECT stream_seq, balance_after::text FROM ledger.post_group(
			$1::integer[], $2::uuid[], $3::integer[], $4::text[], $5::integer[], $6::text[], $7::smallint[],
			$8::text[]::numeric[], $9::smallint[], $10::text[], $11::boolean[], $12::text[],
			$2::uuid[], $3::integer[], $4::text[], $5::integer[],
			$1::integer[], $2::uuid[], $12::text[], $13::bytea[], $1::integer[], $1::integer[])
		WHERE kind = 0 ORDER BY item`,
		reqs, tenants, customers, currencies, websites, slices.Repeat([]string{"ADJUSTMENT"}, n), make([]int16, n),
		deltas, slices.Repeat([]int16{2}, n), make([]string, n), make([]bool, n), keys, hashes)
	if err != nil {
		return nil, nil, err
	}
	var seq int64
	var after string
	_, err = pgx.ForEachRow(rows, []any{&seq, &after}, func() error {
		seqs, afters = append(seqs, seq), append(afters, after)
		return nil
	})
	return seqs, afters, err
}

// Each migration runs on the data of the versions before it (written as
// the code of each version wrote it), and after the last one the entries,
// balances, idempotency keys and stream counters are all there, the code
// reads them, ledger.post_group posts on top of them, and the previous
// release's 22-array ledger.post_group still posts too (it runs beside the
// new one during a rollout).
func TestMigrationsKeepData(t *testing.T) {
	t.Parallel()
	exec := func(sql string, args ...any) func(context.Context, *pgxpool.Pool) error {
		return func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, sql, args...)
			return err
		}
	}
	seedCurrencies := `INSERT INTO ledger.currencies (tenant_id, code, description, scale)
		SELECT $1, code::text, description, scale FROM ledger.default_currencies`
	var firstEntry int64
	pool := pgtest.MigrateStepwise(t, "ledger", migrations.FS, map[int64]func(context.Context, *pgxpool.Pool) error{
		1: nil, // the default currencies are the migration's own rows, checked below
		2: exec(seedCurrencies, migTenantA),
		// A balance with two entries, the first with a key.
		3: func(ctx context.Context, pool *pgxpool.Pool) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				var balanceID int64
				if err := tx.QueryRow(ctx, `INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
					VALUES ($1, 1, 'USD', 0) RETURNING balance_id`, migTenantA).Scan(&balanceID); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, `INSERT INTO ledger.entries (tenant_id, stream_seq, balance_id, customer_id,
						currency, website_id, kind, action, delta, balance_after, idempotency_key, comment, post_time)
					VALUES ($1, 1, $2, 1, 'USD', 0, 'ORDER', 0, 10.00, 10.00, 'k3', 'first', now())
					RETURNING entry_id`, migTenantA, balanceID).Scan(&firstEntry); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `WITH e AS (
						INSERT INTO ledger.entries (tenant_id, stream_seq, balance_id, customer_id, currency, website_id,
							kind, action, delta, balance_after, notify_customer, post_time)
						VALUES ($1, 2, $2, 1, 'USD', 0, 'STORE_CREDIT', 1, 5.00, 15.00, true, now())
						RETURNING entry_id)
					UPDATE ledger.balances SET balance = 15.00, last_entry_id = (SELECT entry_id FROM e)
					WHERE tenant_id = $1 AND balance_id = $2`, migTenantA, balanceID)
				return err
			})
		},
		// The first entry's key, and the stream counter at the last entry.
		4: func(ctx context.Context, pool *pgxpool.Pool) error {
			if _, err := pool.Exec(ctx, `INSERT INTO ledger.idempotency_keys (tenant_id, key, request_hash, entry_ids)
				VALUES ($1, 'k3', 'hash of k3', ARRAY[$2::bigint])`, migTenantA, firstEntry); err != nil {
				return err
			}
			return exec(`INSERT INTO ledger.streams (tenant_id, last_seq) VALUES ($1, 2)`, migTenantA)(ctx, pool)
		},
		5: nil, // a storage parameter of the balances only
		6: nil, // a function only
		// A group through the 22-array function: tenant A's balance goes on,
		// tenant B (its first use) gets one.
		7: func(ctx context.Context, pool *pgxpool.Pool) error {
			if err := exec(seedCurrencies, migTenantB)(ctx, pool); err != nil {
				return err
			}
			if err := exec(`INSERT INTO ledger.streams (tenant_id, last_seq) VALUES ($1, 0)`, migTenantB)(ctx, pool); err != nil {
				return err
			}
			seqs, afters, err := postV7(ctx, pool,
				v7Posting{migTenantA, 1, "USD", 0, "-3", "k7"}, v7Posting{migTenantB, 7, "EUR", 2, "2.5", "k7"})
			if err == nil && (!slices.Equal(seqs, []int64{3, 1}) || !slices.Equal(afters, []string{"12.00", "2.50"})) {
				err = fmt.Errorf("posted at %v with balances after %v, want [3 1] and [12.00 2.50]", seqs, afters)
			}
			return err
		},
		8: nil, // ledger.post_group over composite rows, beside the 22-array form
		9: nil, // function bodies only: the steady state's statements skipped
	})
	ctx := t.Context()
	s := New(pool)

	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.default_currencies`).Scan(&n); err != nil || n != 22 {
		t.Errorf("%d default currencies (%v), want 22", n, err)
	}
	for _, tenant := range []string{migTenantA, migTenantB} {
		if cs, err := s.Currencies(ctx, tenant); err != nil || len(cs) != 22 {
			t.Errorf("tenant %s: %d currencies (%v), want 22", tenant, len(cs), err)
		}
	}
	entries := func(tenant string) []string {
		es, err := s.ReadStream(ctx, tenant, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprintf("%d %d/%s/%d %s %s→%s %q", e.StreamSeq, e.CustomerID, e.Currency, e.WebsiteID,
				e.Kind, e.Delta.StringFixed(e.Scale), e.BalanceAfter.StringFixed(e.Scale), e.IdempotencyKey))
		}
		return out
	}
	wantA := []string{`1 1/USD/0 ORDER 10.00→10.00 "k3"`, `2 1/USD/0 STORE_CREDIT 5.00→15.00 ""`, `3 1/USD/0 ADJUSTMENT -3.00→12.00 "k7"`}
	wantB := []string{`1 7/EUR/2 ADJUSTMENT 2.50→2.50 "k7"`}
	if got := entries(migTenantA); !slices.Equal(got, wantA) {
		t.Errorf("tenant A's entries = %q, want %q", got, wantA)
	}
	if got := entries(migTenantB); !slices.Equal(got, wantB) {
		t.Errorf("tenant B's entries = %q, want %q", got, wantB)
	}
	balance := func(tenant string, customer int32) string {
		bs, err := s.Balances(ctx, tenant, customer, "")
		if err != nil || len(bs) != 1 {
			t.Fatalf("balances of %s/%d: %+v, %v", tenant, customer, bs, err)
		}
		return bs[0].Balance.StringFixed(bs[0].Scale)
	}
	if a, b := balance(migTenantA, 1), balance(migTenantB, 7); a != "12.00" || b != "2.50" {
		t.Errorf("balances %s and %s, want 12.00 and 2.50", a, b)
	}
	for tenant, want := range map[string]int64{migTenantA: 3, migTenantB: 1} {
		if h, err := s.StreamHead(ctx, tenant, 0); err != nil || h.LastSeq != want {
			t.Errorf("tenant %s's stream head = %+v (%v), want position %d", tenant, h, err, want)
		}
	}

	// The new function on the old rows: a key of version 4 and one of
	// version 7 are found taken, the balances and streams go on.
	d := decimal.RequireFromString
	a1 := BalanceKey{TenantID: migTenantA, CustomerID: 1, Currency: "USD"}
	b7 := BalanceKey{TenantID: migTenantB, CustomerID: 7, Currency: "EUR", WebsiteID: 2}
	posted, taken, _, err := s.PostGroup(ctx, []GroupPosting{
		{Req: 0, BalanceKey: a1, Kind: "ADJUSTMENT", Delta: d("1.25"), Scale: 2, Key: "k3"},
		{Req: 1, BalanceKey: a1, Kind: "ADJUSTMENT", Delta: d("0.75"), Scale: 2, Key: "k8"},
		{Req: 2, BalanceKey: b7, Kind: "ADJUSTMENT", Delta: d("1"), Scale: 2},
		{Req: 3, BalanceKey: b7, Kind: "ADJUSTMENT", Delta: d("9"), Scale: 2, Key: "k7"},
	}, []GroupClaim{
		{Req: 0, Key: "k3", RequestHash: []byte("hash of k3")},
		{Req: 1, Key: "k8", RequestHash: []byte("hash of k8")},
		{Req: 3, Key: "k7", RequestHash: []byte("hash of k7")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(taken) != 2 || taken[0].Req != 0 || !slices.Equal(taken[0].EntryIDs, []int64{firstEntry}) ||
		!bytes.Equal(taken[0].RequestHash, []byte("hash of k3")) || taken[1].Req != 3 || len(taken[1].EntryIDs) != 1 {
		t.Errorf("taken = %+v, want requests 0 (entry %d) and 3", taken, firstEntry)
	}
	if len(posted) != 2 || posted[0].Pos != 1 || posted[0].StreamSeq != 4 || posted[0].BalanceAfter.StringFixed(2) != "12.75" ||
		posted[1].Pos != 2 || posted[1].StreamSeq != 2 || posted[1].BalanceAfter.StringFixed(2) != "3.50" {
		t.Errorf("posted = %+v, want posting 1 at A's position 4 (12.75) and posting 2 at B's position 2 (3.50)", posted)
	}

	// The previous release, still running during the rollout, posts too.
	if seqs, afters, err := postV7(ctx, pool, v7Posting{migTenantA, 1, "USD", 0, "1", "k-old"}); err != nil ||
		!slices.Equal(seqs, []int64{5}) || !slices.Equal(afters, []string{"13.75"}) {
		t.Errorf("22-array post_group on version 8: %v, %v, %v; want position 5, 13.75", seqs, afters, err)
	}
	if got := len(entries(migTenantA)); got != 5 {
		t.Errorf("tenant A has %d entries, want 5", got)
	}
}
