package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return store.New(pgtest.MigratedPool(t, "history", migrations.FS))
}

var t0 = time.Date(2012, 4, 6, 13, 44, 58, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// chain builds entries of one balance from deltas, a minute apart.
func chain(balanceID, firstID int64, customer int32, currency string, website int32, start time.Time, deltas ...string) []store.Entry {
	var out []store.Entry
	bal := decimal.Zero
	for i, d := range deltas {
		bal = bal.Add(dec(d))
		out = append(out, store.Entry{
			HistoryID: firstID + int64(i), BalanceID: balanceID, CustomerID: customer, Currency: currency, WebsiteID: website,
			Kind: "ADJUSTMENT", BalanceDelta: dec(d), BalanceAmount: bal, AdditionalInfo: fmt.Sprintf("row %d", i),
			UpdatedAt: start.Add(time.Duration(i) * time.Minute),
		})
	}
	return out
}

func apply(t *testing.T, s *store.Store, tenant, from, to string, es []store.Entry) {
	t.Helper()
	if _, err := s.Apply(t.Context(), tenant, from, to, es); err != nil {
		t.Fatalf("apply %s→%s: %v", from, to, err)
	}
}

func TestApplyComparesAndSetsTheCursor(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tenant := uuid.NewString()
	if c, err := s.Cursor(ctx, tenant); err != nil || c != "" {
		t.Fatalf("first cursor = %q, %v; want empty", c, err)
	}
	es := chain(1, 1, 4, "USD", 0, t0, "10", "5", "-3")
	apply(t, s, tenant, "", "c2", es[:2])
	// A second projector that read the cursor before the first batch
	// committed is refused and writes nothing.
	if _, err := s.Apply(ctx, tenant, "", "c3", es); !errors.Is(err, store.ErrCursorMoved) {
		t.Fatalf("stale apply: err = %v, want ErrCursorMoved", err)
	}
	if c, _ := s.Cursor(ctx, tenant); c != "c2" {
		t.Fatalf("cursor = %q after a refused apply, want c2", c)
	}
	// A repeated entry is kept once.
	n, err := s.Apply(ctx, tenant, "c2", "c3", es[1:])
	if err != nil || n != 1 {
		t.Fatalf("apply with one repeat: inserted %d, %v; want 1", n, err)
	}
	got, err := s.ListHistory(ctx, tenant, store.Filter{CustomerID: 4}, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].HistoryID != 3 || !got[0].BalanceAmount.Equal(dec("12")) {
		t.Fatalf("rows = %+v", got)
	}
	// Another tenant's cursor is its own.
	if c, _ := s.Cursor(ctx, uuid.NewString()); c != "" {
		t.Fatalf("other tenant's cursor = %q", c)
	}
}

func TestListHistoryPagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tenant, other := uuid.NewString(), uuid.NewString()
	usd := chain(1, 1, 4, "USD", 2, t0, "500", "-200", "50", "1")
	eur := chain(2, 10, 4, "EUR", 2, t0.Add(30*time.Second), "7", "8")
	web := chain(3, 20, 4, "USD", 3, t0, "1", "2")
	// A tie on updated_at is ordered by history id.
	tie := chain(4, 30, 4, "GBP", 0, usd[1].UpdatedAt, "3")
	apply(t, s, tenant, "", "a", append(append(append(usd, eur...), web...), tie...))
	apply(t, s, other, "", "a", chain(9, 1, 4, "USD", 2, t0, "99"))

	web2 := int32(2)
	start, end := t0.Add(time.Minute), t0.Add(3*time.Minute)
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []int64
	}{
		{"all", store.Filter{CustomerID: 4}, []int64{4, 3, 11, 30, 21, 2, 10, 20, 1}},
		{"currency", store.Filter{CustomerID: 4, Currency: "USD"}, []int64{4, 3, 21, 2, 20, 1}},
		{"website", store.Filter{CustomerID: 4, WebsiteID: &web2}, []int64{4, 3, 11, 2, 10, 1}},
		{"both", store.Filter{CustomerID: 4, Currency: "USD", WebsiteID: &web2}, []int64{4, 3, 2, 1}},
		{"range", store.Filter{CustomerID: 4, Start: &start, End: &end}, []int64{3, 11, 30, 21, 2}},
		{"range and currency", store.Filter{CustomerID: 4, Currency: "USD", Start: &start, End: &end}, []int64{3, 21, 2}},
		{"unknown customer", store.Filter{CustomerID: 5}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 4, 100} {
				var got []int64
				var after *store.Position
				for page := 0; page < 20; page++ {
					es, err := s.ListHistory(ctx, tenant, tc.f, after, size)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range es {
						got = append(got, e.HistoryID)
					}
					if len(es) < size {
						break
					}
					last := es[len(es)-1]
					after = &store.Position{UpdatedAt: last.UpdatedAt, HistoryID: last.HistoryID}
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("page size %d: ids (-want +got):\n%s", size, diff)
				}
			}
		})
	}
}

func TestBalancesAtAndStatement(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tenant := uuid.NewString()
	usd2 := chain(1, 1, 4, "USD", 2, t0, "500", "-200", "50")           // t0, +1m, +2m
	usd3 := chain(2, 10, 4, "USD", 3, t0.Add(90*time.Second), "1", "2") // +1.5m, +2.5m
	eur := chain(3, 20, 4, "EUR", 0, t0, "7")
	usd2[1].Kind, usd2[1].Action = "STORE_CREDIT", 1
	apply(t, s, tenant, "", "a", append(append(usd2, usd3...), eur...))

	at := func(d time.Duration, currency string) []store.BalanceAt {
		t.Helper()
		bs, err := s.BalancesAt(ctx, tenant, 4, currency, nil, t0.Add(d), false)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	if got := at(-time.Second, ""); len(got) != 0 {
		t.Errorf("before the first row: %+v", got)
	}
	want := []store.BalanceAt{
		{BalanceID: 3, Currency: "EUR", WebsiteID: 0, Balance: dec("7"), LastHistoryID: 20},
		{BalanceID: 1, Currency: "USD", WebsiteID: 2, Balance: dec("300"), LastHistoryID: 2},
		{BalanceID: 2, Currency: "USD", WebsiteID: 3, Balance: dec("1"), LastHistoryID: 10},
	}
	opt := cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })
	// At exactly the row's instant the row counts.
	if diff := cmp.Diff(want, at(90*time.Second, ""), opt); diff != "" {
		t.Errorf("at +90s (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], at(90*time.Second, "USD"), opt); diff != "" {
		t.Errorf("USD at +90s (-want +got):\n%s", diff)
	}

	st, err := s.Statement(ctx, tenant, 4, "USD", nil, t0.Add(time.Minute), t0.Add(150*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Opening: just before +1m, only the 500. Period rows: -200 (+1m), +1
	// (+1.5m), +50 (+2m); +2 at +2.5m is the end, excluded.
	sum := func(bs []store.BalanceAt) decimal.Decimal {
		var d decimal.Decimal
		for _, b := range bs {
			d = d.Add(b.Balance)
		}
		return d
	}
	if !sum(st.Opening).Equal(dec("500")) || !sum(st.Closing).Equal(dec("351")) {
		t.Errorf("opening %v closing %v, want 500 and 351", sum(st.Opening), sum(st.Closing))
	}
	wantTotals := []store.KindTotal{
		{Kind: "ADJUSTMENT", Action: 0, Total: dec("51"), Count: 2},
		{Kind: "STORE_CREDIT", Action: 1, Total: dec("-200"), Count: 1},
	}
	if diff := cmp.Diff(wantTotals, st.Totals, opt); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

// Amounts keep the scale the ledger posted them with.
func TestAmountsKeepTheirScale(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tenant := uuid.NewString()
	apply(t, s, tenant, "", "a", chain(1, 1, 4, "USD", 0, t0, "500.00", "-200.5"))
	es, err := s.ListHistory(t.Context(), tenant, store.Filter{CustomerID: 4}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := es[1].BalanceDelta; got.Exponent() != -2 || got.String() != "500" {
		t.Errorf("delta = %s exp %d, want 500.00", got, got.Exponent())
	}
	if got := es[0].BalanceAmount; got.Exponent() != -2 {
		t.Errorf("balance after = %s exp %d, want scale 2", got, got.Exponent())
	}
}
