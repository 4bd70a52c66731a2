package ledger

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// decimalEqual compares decimals by value in cmp diffs.
var decimalEqual = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

func TestPostAppliesKindsAndKeepsRunningBalance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := t.Context()
	steps := []struct {
		p         Posting
		delta     string
		balance   string
		websiteID int32
	}{
		{Posting{Kind: KindPayment, Amount: "100.00"}, "100", "100", 0},
		{Posting{Kind: KindOrder, Amount: "30.25"}, "-30.25", "69.75", 0},
		{Posting{Kind: KindAdjustment, Amount: "-9.75"}, "-9.75", "60", 0},
		{Posting{Kind: KindStoreCredit, Action: ActionCreated, Amount: "-10"}, "-10", "50", 0},
		{Posting{Kind: KindStoreCredit, Action: ActionUsed, Amount: "5"}, "-5", "45", 0},
		{Posting{Kind: KindStoreCredit, Action: ActionRefunded, Amount: "2.5"}, "2.5", "47.5", 0},
		{Posting{Kind: KindStoreCredit, Action: ActionReverted, Amount: "0.5"}, "0.5", "48", 0},
		{Posting{Kind: KindStoreCredit, Action: ActionUpdated, Amount: "+1"}, "1", "49", 0},
		// Another website is another balance.
		{Posting{Kind: KindPayment, Amount: "7", WebsiteID: 2}, "7", "7", 2},
	}
	for i, s := range steps {
		s.p.CustomerID, s.p.Currency, s.p.WebsiteID = 1, "USD", s.websiteID
		res, err := f.svc.Post(ctx, f.a, "", s.p)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		e, b := res.Entries[0], res.Balances[0]
		if !e.Delta.Equal(dec(s.delta)) || !e.BalanceAfter.Equal(dec(s.balance)) {
			t.Errorf("step %d: delta %s, balance after %s; want %s, %s", i, e.Delta, e.BalanceAfter, s.delta, s.balance)
		}
		if b.ID != e.BalanceID || !b.Amount.Equal(e.BalanceAfter) || b.LastEntryID != e.ID || res.Replayed {
			t.Errorf("step %d: balance %+v does not follow entry %+v", i, b, e)
		}
	}
	sums, balances, err := f.svc.Balances(ctx, f.a, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || !sums[0].Amount.Equal(dec("56")) || sums[0].Description != "US Dollar" || sums[0].Scale != 2 {
		t.Errorf("currency balances = %+v, want USD 56 over both websites", sums)
	}
	if len(balances) != 2 || balances[0].WebsiteID != 0 || !balances[0].Amount.Equal(dec("49")) ||
		balances[1].WebsiteID != 2 || !balances[1].Amount.Equal(dec("7")) {
		t.Errorf("balances = %+v", balances)
	}
	// Tenant b sees nothing of tenant a's.
	if sums, balances, err := f.svc.Balances(ctx, f.b, 1, ""); err != nil || len(sums)+len(balances) != 0 {
		t.Errorf("tenant b balances = %v %v %v", sums, balances, err)
	}
}

func TestPostRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		p    Posting
		want error
	}{
		{"unknown currency", payment(1, "XYZ", "1"), ErrInvalid},
		{"too many decimals", payment(1, "USD", "1.001"), ErrInvalid},
		{"decimals in yen", payment(1, "JPY", "1.5"), ErrInvalid},
		{"zero", payment(1, "USD", "0"), ErrInvalid},
		{"negative payment", payment(1, "USD", "-1"), ErrInvalid},
		{"exponent", payment(1, "USD", "1e2"), ErrInvalid},
		{"action on order", Posting{CustomerID: 1, Currency: "USD", Kind: KindOrder, Action: 3, Amount: "1"}, ErrInvalid},
		{"store credit without action", Posting{CustomerID: 1, Currency: "USD", Kind: KindStoreCredit, Amount: "1"}, ErrInvalid},
		{"unknown customer", payment(99, "USD", "1"), ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.svc.Post(ctx, f.a, "key-"+strings.ReplaceAll(tc.name, " ", "-"), tc.p); !errors.Is(err, tc.want) {
				t.Fatalf("Post = %v, want %v", err, tc.want)
			}
		})
	}
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'k'
	}
	if _, err := f.svc.Post(ctx, f.a, string(long), payment(1, "USD", "1")); !errors.Is(err, ErrInvalid) {
		t.Errorf("a 201-byte key: %v", err)
	}
	f.dir.err = errors.New("customer service down")
	if _, err := f.svc.Post(ctx, f.a, "", payment(2, "USD", "1")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("customer service down: %v, want ErrUnavailable", err)
	}
	for _, table := range []string{"entries", "idempotency_keys"} {
		if n := count(t, f.pool, "SELECT count(*) FROM ledger."+table); n != 0 {
			t.Errorf("ledger.%s has %d rows after refusals only", table, n)
		}
	}
	// The tenant's stream counter exists from its first use, and has not moved.
	if n := count(t, f.pool, "SELECT coalesce(sum(last_seq), 0) FROM ledger.streams"); n != 0 {
		t.Errorf("stream counters advanced by %d after refusals only", n)
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := t.Context()
	bad := []Posting{payment(1, "USD", "10"), payment(2, "EUR", "1.234")}
	_, err := f.svc.PostBatch(ctx, f.a, "b1", bad)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "postings[1].amount" {
		t.Fatalf("batch with a bad posting: %v, want an error on postings[1].amount", err)
	}
	if _, err := f.svc.PostBatch(ctx, f.a, "b1", []Posting{payment(1, "USD", "10"), payment(77, "USD", "1")}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("batch with an unknown customer: %v", err)
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != 0 {
		t.Fatalf("refused batches wrote %d entries", n)
	}
	good := []Posting{
		payment(1, "USD", "10"),
		{CustomerID: 1, Currency: "USD", Kind: KindOrder, Amount: "4"},
		payment(2, "EUR", "1.23"),
		payment(1, "USD", "1"),
	}
	res, err := f.svc.PostBatch(ctx, f.a, "b1", good)
	if err != nil {
		t.Fatal(err)
	}
	var afters []string
	for _, e := range res.Entries {
		afters = append(afters, e.BalanceAfter.String())
	}
	if diff := cmp.Diff([]string{"10", "6", "1.23", "7"}, afters); diff != "" {
		t.Errorf("balances after (-want +got):\n%s", diff)
	}
	if len(res.Balances) != 2 || !res.Balances[0].Amount.Equal(dec("7")) || res.Balances[0].LastEntryID != res.Entries[3].ID ||
		!res.Balances[1].Amount.Equal(dec("1.23")) {
		t.Errorf("balances = %+v", res.Balances)
	}
	for i := 1; i < len(res.Entries); i++ {
		if res.Entries[i].ID <= res.Entries[i-1].ID || res.Entries[i].StreamSeq != res.Entries[i-1].StreamSeq+1 {
			t.Errorf("entries out of order: %+v", res.Entries)
		}
	}
	if _, err := f.svc.PostBatch(ctx, f.a, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty batch: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := t.Context()
	first, err := f.svc.Post(ctx, f.a, "pay-1", payment(1, "USD", "25"))
	if err != nil {
		t.Fatal(err)
	}
	// The same request (the same value written differently) replays the
	// first answer exactly and writes nothing.
	again, err := f.svc.Post(ctx, f.a, "pay-1", payment(1, "USD", "25.00"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed {
		t.Error("replay not marked replayed")
	}
	again.Replayed = false
	if diff := cmp.Diff(first, again, decimalEqual); diff != "" {
		t.Errorf("replay differs from the first answer (-first +replay):\n%s", diff)
	}
	if _, err := f.svc.Post(ctx, f.a, "pay-1", payment(1, "USD", "26")); !errors.Is(err, ErrKeyReused) {
		t.Errorf("same key, other amount: %v, want ErrKeyReused", err)
	}
	// Keys are shared by single and batch postings.
	if _, err := f.svc.PostBatch(ctx, f.a, "pay-1", []Posting{payment(1, "USD", "25")}); !errors.Is(err, ErrKeyReused) {
		t.Errorf("same key as a batch: %v, want ErrKeyReused", err)
	}
	batch := []Posting{payment(1, "USD", "1"), payment(2, "USD", "2")}
	b1, err := f.svc.PostBatch(ctx, f.a, "batch-1", batch)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := f.svc.PostBatch(ctx, f.a, "batch-1", batch)
	if err != nil || !b2.Replayed {
		t.Fatalf("batch replay: %v %v", b2, err)
	}
	b2.Replayed = false
	if diff := cmp.Diff(b1, b2, decimalEqual); diff != "" {
		t.Errorf("batch replay differs (-first +replay):\n%s", diff)
	}
	if _, err := f.svc.Post(ctx, f.a, "batch-1", payment(1, "USD", "1")); !errors.Is(err, ErrKeyReused) {
		t.Errorf("batch key reused by a single posting: %v", err)
	}
	// A key belongs to its tenant: tenant b may use the same one.
	if res, err := f.svc.Post(ctx, f.b, "pay-1", payment(1, "USD", "25")); err != nil || res.Replayed {
		t.Errorf("tenant b with tenant a's key: %+v %v, want a fresh posting", res, err)
	}
	// No key, no idempotency.
	for range 2 {
		if res, err := f.svc.Post(ctx, f.a, "", payment(3, "USD", "1")); err != nil || res.Replayed {
			t.Fatalf("unkeyed posting: %+v %v", res, err)
		}
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries WHERE tenant_id = $1", f.a); n != 5 {
		t.Errorf("tenant a has %d entries, want 5", n)
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.idempotency_keys"); n != 3 {
		t.Errorf("%d idempotency keys, want 3", n)
	}
}

func TestCurrenciesSeededPerTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, false)
	ctx := t.Context()
	cs, err := f.svc.Currencies(ctx, f.a)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 22 || cs[0].Code != "AUD" {
		t.Fatalf("seeded currencies = %v", cs)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO ledger.currencies VALUES ($1, 'XAU', 'Gold (troy ounce)', 6)`, f.a); err != nil {
		t.Fatal(err)
	}
	// Tenant b is seeded on its own first use and does not get a's rows.
	cs, err = f.svc.Currencies(ctx, f.b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Code == "XAU" {
			t.Error("tenant b sees tenant a's currency")
		}
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.currencies"); n != 45 {
		t.Errorf("%d currency rows, want 22 + 1 + 22", n)
	}
}

func TestListEntriesNewestFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := t.Context()
	for i, p := range []Posting{payment(1, "USD", "1"), payment(1, "EUR", "2"), payment(2, "USD", "3"), {CustomerID: 1, Currency: "USD", WebsiteID: 1, Kind: KindPayment, Amount: "4"}} {
		if _, err := f.svc.Post(ctx, f.a, "", p); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	amounts := func(filter EntryFilter, before int64, limit int) (out []string, last int64) {
		es, err := f.svc.ListEntries(ctx, f.a, filter, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out, last = append(out, e.Delta.String()), e.StreamSeq
		}
		return out, last
	}
	page1, last := amounts(EntryFilter{CustomerID: 1}, 0, 2)
	page2, _ := amounts(EntryFilter{CustomerID: 1}, last, 2)
	if diff := cmp.Diff([]string{"4", "2", "1"}, append(page1, page2...)); diff != "" {
		t.Errorf("customer 1 newest first (-want +got):\n%s", diff)
	}
	usd, _ := amounts(EntryFilter{CustomerID: 1, Currency: "USD"}, 0, 10)
	site0 := int32(0)
	web0, _ := amounts(EntryFilter{CustomerID: 1, WebsiteID: &site0}, 0, 10)
	if diff := cmp.Diff([][]string{{"4", "1"}, {"2", "1"}}, [][]string{usd, web0}); diff != "" {
		t.Errorf("filters (-want +got):\n%s", diff)
	}
	if es, err := f.svc.ListEntries(ctx, f.b, EntryFilter{CustomerID: 1}, 0, 10); err != nil || len(es) != 0 {
		t.Errorf("tenant b lists %v %v", es, err)
	}
}
