package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// backendCPU is the CPU time the database's server processes have used,
// read from /proc: the server runs on this machine in every test setup.
// ok is false where /proc cannot tell.
func backendCPU(ctx context.Context, pool *pgxpool.Pool) (d time.Duration, ok bool) {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0, false
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		if rows.Scan(&pid) != nil {
			return 0, false
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, false
		}
		// The fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th of them, in clock ticks (100 a
		// second on Linux).
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		if len(f) < 13 {
			return 0, false
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		d += time.Duration(u+s) * 10 * time.Millisecond
	}
	return d, rows.Err() == nil
}

// BenchmarkPostGroup runs one posting transaction per iteration, each with
// -size postings that carry idempotency keys, as the ledger's group commit
// sends them: over many customers (uniform) or all to one (hot). Besides
// the wall time it reports the database server's CPU per posting, which is
// what post_group costs on the server whatever else the machine runs.
func BenchmarkPostGroup(b *testing.B) {
	for _, size := range []int{8, 48} {
		for _, hot := range []bool{false, true} {
			name := fmt.Sprintf("size=%d/uniform", size)
			if hot {
				name = fmt.Sprintf("size=%d/hot", size)
			}
			b.Run(name, func(b *testing.B) { benchPostGroup(b, size, hot) })
		}
	}
}

func benchPostGroup(b *testing.B, size int, hot bool) {
	pool := pgtest.MigratedPool(b, "ledger", migrations.FS)
	s := New(pool)
	ctx := b.Context()
	const tenant = "2d7b3c1e-0000-4000-8000-0000000000be"
	if _, err := s.Currencies(ctx, tenant); err != nil {
		b.Fatal(err)
	}
	const customers = 10000
	// Steady state: every balance row exists.
	if _, err := pool.Exec(ctx, `INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
		SELECT $1, g, 'USD', 0 FROM generate_series(1, $2::integer) g`, tenant, customers); err != nil {
		b.Fatal(err)
	}
	delta := decimal.RequireFromString("1.25")
	rng := rand.New(rand.NewPCG(1, 2))
	group := func(iter int) ([]GroupPosting, []GroupClaim) {
		ps := make([]GroupPosting, size)
		cs := make([]GroupClaim, size)
		for i := range ps {
			customer := int32(1)
			if !hot {
				customer = 1 + rng.Int32N(customers)
			}
			key := fmt.Sprintf("bench-%d-%d", iter, i)
			ps[i] = GroupPosting{Req: i, BalanceKey: BalanceKey{TenantID: tenant, CustomerID: customer, Currency: "USD"},
				Kind: "PAYMENT", Delta: delta, Scale: 2, Key: key}
			cs[i] = GroupClaim{Req: i, Key: key, RequestHash: []byte("0123456789abcdef0123456789abcdef")}
		}
		return ps, cs
	}
	// Warm the connections' caches (row types, plans) before measuring.
	for i := range 20 {
		ps, cs := group(-1 - i)
		if _, _, _, err := s.PostGroup(ctx, ps, cs); err != nil {
			b.Fatal(err)
		}
	}
	cpu0, ok := backendCPU(ctx, pool)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ps, cs := group(i)
		posted, _, _, err := s.PostGroup(ctx, ps, cs)
		if err != nil {
			b.Fatal(err)
		}
		if len(posted) != size {
			b.Fatalf("%d of %d postings written", len(posted), size)
		}
	}
	b.StopTimer()
	if cpu1, ok1 := backendCPU(ctx, pool); ok && ok1 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N*size), "server-µs/posting")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*size), "µs/posting")
}

// BenchmarkEncodeGroup encodes a group's postings as ledger.post_group's
// parameter, by field position (the rows' Index) and, for comparison, by
// reflection over the same structs without it.
func BenchmarkEncodeGroup(b *testing.B) {
	pool := pgtest.MigratedPool(b, "ledger", migrations.FS)
	conn, err := pool.Acquire(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	if err := loadRowTypes(b.Context(), conn.Conn()); err != nil {
		b.Fatal(err)
	}
	m := conn.Conn().TypeMap()
	typ, ok := m.TypeForName("ledger._group_posting")
	if !ok {
		b.Fatal("ledger._group_posting not loaded")
	}
	const tenant = "2d7b3c1e-0000-4000-8000-0000000000be"
	ps := make([]GroupPosting, 48)
	for i := range ps {
		ps[i] = GroupPosting{Req: i, BalanceKey: BalanceKey{TenantID: tenant, CustomerID: int32(i + 1), Currency: "USD"},
			Kind: "PAYMENT", Delta: decimal.RequireFromString("1.25"), Scale: 2, Key: fmt.Sprintf("bench-%d", i)}
	}
	g, err := groupRows(ps, nil)
	if err != nil {
		b.Fatal(err)
	}
	type reflected postingRow // the same fields, without Index
	plain := make([]reflected, len(g.postings))
	for i, r := range g.postings {
		plain[i] = reflected(r)
	}
	for name, rows := range map[string]any{"index": g.postings, "reflect": plain} {
		b.Run(name, func(b *testing.B) {
			var buf []byte
			for b.Loop() {
				if buf, err = m.Encode(typ.OID, pgtype.BinaryFormatCode, rows, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
