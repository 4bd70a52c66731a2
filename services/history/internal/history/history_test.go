package history_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/customer/customerclient"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// directory stands in for the customer service: the customers of each
// tenant, and how often it was asked.
type directory struct {
	known map[string]map[int32]bool
	calls atomic.Int64
	err   error
}

func (d *directory) CustomerExists(_ context.Context, tenant string, id int32) (bool, error) {
	d.calls.Add(1)
	return d.known[tenant][id], d.err
}

type fixture struct {
	st   *store.Store
	svc  *history.Service
	dir  *directory
	a, b string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st := store.New(pgtest.MigratedPool(t, "history", migrations.FS))
	a, b := uuid.NewString(), uuid.NewString()
	dir := &directory{known: map[string]map[int32]bool{a: {4: true, 7: true}, b: {4: true}}}
	return fixture{st: st, dir: dir, a: a, b: b,
		svc: history.NewService(st, customerclient.NewCached(dir, time.Minute, 1000), history.NewApplied(), nil)}
}

var t0 = time.Date(2012, 4, 6, 13, 44, 58, 0, time.UTC)

// seed applies entries of one balance with the given deltas at the given
// offsets from t0, and returns them.
func seed(t *testing.T, st *store.Store, tenant string, cursor *int, balanceID int64, customer int32, currency string, website int32, at []time.Duration, deltas []string) []store.Entry {
	t.Helper()
	var es []store.Entry
	bal := decimal.Zero
	for i, d := range deltas {
		bal = bal.Add(decimal.RequireFromString(d))
		es = append(es, store.Entry{HistoryID: balanceID*1000 + int64(i), BalanceID: balanceID, CustomerID: customer, Currency: currency,
			WebsiteID: website, Kind: "PAYMENT", BalanceDelta: decimal.RequireFromString(d), BalanceAmount: bal, UpdatedAt: t0.Add(at[i])})
	}
	from := ""
	if *cursor > 0 {
		from = fmt.Sprint(*cursor)
	}
	*cursor++
	if _, err := st.Apply(t.Context(), tenant, from, fmt.Sprint(*cursor), es); err != nil {
		t.Fatal(err)
	}
	return es
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *history.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("err = %v, want a FieldError on %s", err, field)
	}
}

func TestUnknownCustomer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	cursor := 0
	seed(t, f.st, f.a, &cursor, 1, 4, "USD", 0, []time.Duration{0}, []string{"5"})

	// Customer 9 exists nowhere; 7 exists without rows; 4 has rows.
	if _, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 9}, "", 0, history.Consistency{}); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("list of unknown customer: %v, want ErrNotFound", err)
	}
	if _, _, err := f.svc.BalancesAt(ctx, f.a, 9, "", nil, t0, history.Consistency{}); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("balances of unknown customer: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Statement(ctx, f.a, 9, "USD", nil, t0, t0.Add(time.Hour), history.Consistency{}); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("statement of unknown customer: %v, want ErrNotFound", err)
	}
	// Tenant b has no customer 7.
	if _, _, err := f.svc.List(ctx, f.b, history.Filter{CustomerID: 7}, "", 0, history.Consistency{}); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("tenant b's customer 7: %v, want ErrNotFound", err)
	}
	calls := f.dir.calls.Load()
	for range 3 {
		es, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 7}, "", 0, history.Consistency{})
		if err != nil || len(es) != 0 {
			t.Fatalf("customer without rows: %v, %v; want an empty list", es, err)
		}
	}
	if got := f.dir.calls.Load() - calls; got != 1 {
		t.Errorf("customer service asked %d times for a known customer, want 1 (cached)", got)
	}
	// Customer 4 has rows: no question to the customer service, even when
	// the filter leaves nothing.
	calls = f.dir.calls.Load()
	if es, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4, Currency: "EUR"}, "", 0, history.Consistency{}); err != nil || len(es) != 0 {
		t.Errorf("EUR rows of 4: %v, %v", es, err)
	}
	if f.dir.calls.Load() != calls {
		t.Errorf("customer service asked about a customer with rows")
	}
	// The customer service down is UNAVAILABLE, not NOT_FOUND.
	f.dir.err = errors.New("down")
	if _, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 8}, "", 0, history.Consistency{}); !errors.Is(err, history.ErrUnavailable) {
		t.Errorf("directory down: %v, want ErrUnavailable", err)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	cursor := 0
	seed(t, f.st, f.a, &cursor, 1, 4, "USD", 0, []time.Duration{0, time.Second, 2 * time.Second}, []string{"5", "6", "7"})
	cursorB := 0
	seed(t, f.st, f.b, &cursorB, 2, 4, "USD", 0, []time.Duration{0, time.Second, 2 * time.Second}, []string{"5", "6", "7"})
	_, tokA, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4}, "", 1, history.Consistency{})
	if err != nil || tokA == "" {
		t.Fatalf("first page: %q, %v", tokA, err)
	}
	later, earlier := t0.Add(time.Hour), t0
	neg := -time.Second
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"customer id 0", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{}, "", 0, history.Consistency{})
			return err
		}, "customer_id"},
		{"negative page size", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4}, "", -1, history.Consistency{})
			return err
		}, "page_size"},
		{"inverted list range", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4, Start: &later, End: &earlier}, "", 0, history.Consistency{})
			return err
		}, "start_time"},
		{"inverted statement", func() error {
			_, err := f.svc.Statement(ctx, f.a, 4, "USD", nil, later, earlier, history.Consistency{})
			return err
		}, "start_time"},
		{"statement without currency", func() error {
			_, err := f.svc.Statement(ctx, f.a, 4, "", nil, earlier, later, history.Consistency{})
			return err
		}, "currency"},
		{"malformed token", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4}, "not-a-token!", 1, history.Consistency{})
			return err
		}, "page_token"},
		{"token of another tenant", func() error {
			_, _, err := f.svc.List(ctx, f.b, history.Filter{CustomerID: 4}, tokA, 1, history.Consistency{})
			return err
		}, "page_token"},
		{"token of another query", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4, Currency: "USD"}, tokA, 1, history.Consistency{})
			return err
		}, "page_token"},
		{"token of another customer", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 7}, tokA, 1, history.Consistency{})
			return err
		}, "page_token"},
		{"negative wait", func() error {
			_, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4}, "", 1, history.Consistency{MinEntryID: 1, MaxWait: &neg})
			return err
		}, "consistency.max_wait"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantField(t, tc.do(), tc.field) })
	}
	// The same token with another page size is fine.
	if es, _, err := f.svc.List(ctx, f.a, history.Filter{CustomerID: 4}, tokA, 5, history.Consistency{}); err != nil || len(es) != 2 {
		t.Errorf("next page with another size: %d rows, %v", len(es), err)
	}
}

// For many random instants, the balance at the instant is the balance after
// the last row at or before it, with rows in random time order (ties
// included) across balances.
func TestBalanceAtRandomInstants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	cursor := 0
	type key struct {
		currency string
		website  int32
	}
	var all []store.Entry
	for i, k := range []key{{"USD", 0}, {"USD", 2}, {"EUR", 0}} {
		n := 200
		at := make([]time.Duration, n)
		deltas := make([]string, n)
		for j := range n {
			at[j] = time.Duration(rand.IntN(3600)) * time.Second // ties and disorder on purpose
			deltas[j] = fmt.Sprintf("%d.%02d", rand.IntN(1000)-500, rand.IntN(100))
		}
		all = append(all, seed(t, f.st, f.a, &cursor, int64(i+1), 4, k.currency, k.website, at, deltas)...)
	}
	// The definition, by brute force.
	want := func(at time.Time) map[key]decimal.Decimal {
		out := map[key]decimal.Decimal{}
		best := map[key]store.Entry{}
		for _, e := range all {
			k := key{e.Currency, e.WebsiteID}
			if e.UpdatedAt.After(at) {
				continue
			}
			b, ok := best[k]
			if !ok || e.UpdatedAt.After(b.UpdatedAt) || (e.UpdatedAt.Equal(b.UpdatedAt) && e.HistoryID > b.HistoryID) {
				best[k] = e
			}
		}
		for k, e := range best {
			out[k] = e.BalanceAmount
		}
		return out
	}
	for range 300 {
		at := t0.Add(time.Duration(rand.IntN(3700*1000)-50*1000) * time.Millisecond)
		if rand.IntN(4) == 0 { // exactly on a row
			at = all[rand.IntN(len(all))].UpdatedAt
		}
		bs, totals, err := f.svc.BalancesAt(ctx, f.a, 4, "", nil, at, history.Consistency{})
		if err != nil {
			t.Fatal(err)
		}
		w := want(at)
		if len(bs) != len(w) {
			t.Fatalf("at %s: %d balances, want %d", at, len(bs), len(w))
		}
		sums := map[string]decimal.Decimal{}
		for _, b := range bs {
			if exp := w[key{b.Currency, b.WebsiteID}]; !b.Balance.Equal(exp) {
				t.Fatalf("at %s: %s/%d = %s, want %s", at, b.Currency, b.WebsiteID, b.Balance, exp)
			}
			sums[b.Currency] = sums[b.Currency].Add(b.Balance)
		}
		if !sort.SliceIsSorted(totals, func(i, j int) bool { return totals[i].Currency < totals[j].Currency }) || len(totals) != len(sums) {
			t.Fatalf("totals %v", totals)
		}
		for _, tot := range totals {
			if !tot.Balance.Equal(sums[tot.Currency]) {
				t.Fatalf("total %s = %s, want %s", tot.Currency, tot.Balance, sums[tot.Currency])
			}
		}
	}
}

// A statement's opening plus its totals is its closing when post times are
// monotonic per balance.
func TestStatementAddsUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cursor := 0
	at := make([]time.Duration, 50)
	deltas := make([]string, 50)
	for i := range at {
		at[i] = time.Duration(i) * time.Minute
		deltas[i] = fmt.Sprintf("%d.5", rand.IntN(100)-50)
	}
	seed(t, f.st, f.a, &cursor, 1, 4, "USD", 0, at, deltas)
	seed(t, f.st, f.a, &cursor, 2, 4, "USD", 3, at, deltas)
	for range 50 {
		s := t0.Add(time.Duration(rand.IntN(60)-5) * time.Minute)
		e := s.Add(time.Duration(rand.IntN(30)) * time.Minute)
		st, err := f.svc.Statement(t.Context(), f.a, 4, "USD", nil, s, e, history.Consistency{})
		if err != nil {
			t.Fatal(err)
		}
		sum := st.OpeningBalance
		for _, k := range st.Totals {
			sum = sum.Add(k.Total)
		}
		if !sum.Equal(st.ClosingBalance) {
			t.Fatalf("[%s, %s): opening %s + totals %v ≠ closing %s", s, e, st.OpeningBalance, st.Totals, st.ClosingBalance)
		}
	}
}
