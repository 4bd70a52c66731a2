package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// One group over two tenants: running balances in posting order, stream
// positions consecutive per tenant, a key already taken writes nothing and
// returns its record, and the balances end where the entries say.
func TestPostGroup(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	s := New(pool)
	ctx := t.Context()
	const a, b = "2d7b3c1e-0000-4000-8000-00000000000a", "2d7b3c1e-0000-4000-8000-00000000000b"
	for _, tenant := range []string{a, b} {
		if _, err := s.Currencies(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	d := decimal.RequireFromString
	a1 := BalanceKey{TenantID: a, CustomerID: 1, Currency: "USD"}
	a2 := BalanceKey{TenantID: a, CustomerID: 2, Currency: "EUR", WebsiteID: 3}
	b1 := BalanceKey{TenantID: b, CustomerID: 1, Currency: "JPY"}
	post := func(k BalanceKey, req int, delta string, scale int32, key string) GroupPosting {
		return GroupPosting{Req: req, BalanceKey: k, Kind: "ADJUSTMENT", Delta: d(delta), Scale: scale, Key: key}
	}

	// The first group claims "k1" for tenant a.
	posted, taken, notified, err := s.PostGroup(ctx, []GroupPosting{post(a1, 0, "10.5", 2, "k1")},
		[]GroupClaim{{Req: 0, Key: "k1", RequestHash: []byte("h1")}})
	if err != nil || len(posted) != 1 || len(taken) != 0 || !notified {
		t.Fatalf("first group: %+v, %+v, %v, %v", posted, taken, notified, err)
	}
	first := posted[0]

	group := []GroupPosting{
		post(b1, 0, "700", 0, ""),     // tenant b
		post(a1, 1, "-0.25", 2, "k1"), // repeats k1: must not be written
		post(a2, 2, "3", 2, "k2"),     // tenant a, new key, two postings
		post(a1, 2, "1.75", 2, "k2"),  //
		post(a1, 3, "-2", 2, ""),      // tenant a, no key
		post(b1, 4, "-100", 0, "k1"),  // tenant b's own "k1": a different key
	}
	claims := []GroupClaim{
		{Req: 1, Key: "k1", RequestHash: []byte("h1")},
		{Req: 2, Key: "k2", RequestHash: []byte("h2")},
		{Req: 4, Key: "k1", RequestHash: []byte("hb")},
	}
	posted, taken, _, err = s.PostGroup(ctx, group, claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(taken) != 1 || taken[0].Req != 1 || !bytes.Equal(taken[0].RequestHash, []byte("h1")) ||
		len(taken[0].EntryIDs) != 1 || taken[0].EntryIDs[0] != first.EntryID {
		t.Fatalf("taken = %+v, want request 1 with entry %d", taken, first.EntryID)
	}
	type want struct {
		pos   int
		after string
		seq   int64
	}
	wants := []want{
		{0, "700", 1},  // tenant b's first position
		{2, "3.00", 2}, // tenant a: position 1 went to the first group
		{3, "12.25", 3},
		{4, "10.25", 4},
		{5, "600", 2},
	}
	if len(posted) != len(wants) {
		t.Fatalf("posted %d entries, want %d: %+v", len(posted), len(wants), posted)
	}
	var lastID int64
	for i, w := range wants {
		p := posted[i]
		if p.Pos != w.pos || !p.BalanceAfter.Equal(d(w.after)) || p.StreamSeq != w.seq {
			t.Errorf("entry %d = %+v, want posting %d, balance after %s, position %d", i, p, w.pos, w.after, w.seq)
		}
		if p.EntryID <= lastID || p.EntryID <= first.EntryID {
			t.Errorf("entry ids not ascending in posting order: %d after %d", p.EntryID, lastID)
		}
		lastID = p.EntryID
	}

	// The key's record names the entries its request wrote.
	var ids []int64
	if err := pool.QueryRow(ctx, `SELECT entry_ids FROM ledger.idempotency_keys WHERE tenant_id = $1 AND key = 'k2'`, a).Scan(&ids); err != nil ||
		len(ids) != 2 || ids[0] != posted[1].EntryID || ids[1] != posted[2].EntryID {
		t.Errorf("k2's entry ids = %v (%v), want [%d %d]", ids, err, posted[1].EntryID, posted[2].EntryID)
	}
	// Balances end at their last entries; amounts are stored at their
	// currency's scale.
	for k, wantBalance := range map[BalanceKey]string{a1: "10.25", a2: "3.00", b1: "600"} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT balance::text FROM ledger.balances
			WHERE tenant_id = $1 AND customer_id = $2 AND currency = $3 AND website_id = $4`,
			k.TenantID, k.CustomerID, k.Currency, k.WebsiteID).Scan(&got); err != nil || got != wantBalance {
			t.Errorf("balance %+v = %s (%v), want %s", k, got, err, wantBalance)
		}
	}
	var deltas []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(delta::text || '/' || balance_after::text ORDER BY entry_id)
		FROM ledger.entries WHERE tenant_id = $1`, a).Scan(&deltas); err != nil ||
		len(deltas) != 4 || deltas[0] != "10.50/10.50" || deltas[1] != "3.00/3.00" || deltas[2] != "1.75/12.25" || deltas[3] != "-2.00/10.25" {
		t.Errorf("tenant a's entries (delta/balance after) = %v (%v)", deltas, err)
	}
}

// A group the database refuses writes nothing at all, and the connection
// it used is fit for the next group.
func TestPostGroupRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	s := New(pool)
	ctx := t.Context()
	const tenant = "2d7b3c1e-0000-4000-8000-00000000000c"
	if _, err := s.Currencies(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	k := BalanceKey{TenantID: tenant, CustomerID: 1, Currency: "USD"}
	bad := []GroupPosting{
		{Req: 0, BalanceKey: k, Kind: "PAYMENT", Delta: decimal.RequireFromString("5"), Scale: 2, Key: "x"},
		{Req: 1, BalanceKey: k, Kind: "PAYMENT", Delta: decimal.Zero, Scale: 2}, // delta <> 0 is a CHECK
	}
	_, _, _, err := s.PostGroup(ctx, bad, []GroupClaim{{Req: 0, Key: "x", RequestHash: []byte("h")}})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !Refused(err) || errors.Is(err, ErrCommitUnknown) {
		t.Fatalf("err = %v, want the CHECK's refusal", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger.entries) + (SELECT count(*) FROM ledger.idempotency_keys)
		+ (SELECT count(*) FROM ledger.balances WHERE last_entry_id IS NOT NULL)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written (%v), want none", n, err)
	}
	for range 3 { // every connection of the pool, whichever the pool hands out
		posted, taken, _, err := s.PostGroup(ctx, bad[:1], []GroupClaim{{Req: 0, Key: bad[0].Key, RequestHash: []byte("h")}})
		if err != nil || len(posted) != 1 {
			t.Fatalf("next group: %+v, %+v, %v", posted, taken, err)
		}
		bad[0].Key = bad[0].Key + "x"
	}
}
