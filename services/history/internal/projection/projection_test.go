package projection

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// tenantList is the customer service's tenant list, as the projector sees it.
type tenantList struct {
	mu  sync.Mutex
	ids []string
}

func (l *tenantList) ListTenantIDs(context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...), nil
}

// everyoneExists stands in for the customer service.
type everyoneExists struct{}

func (everyoneExists) CustomerExists(context.Context, string, int32) (bool, error) { return true, nil }

type fixture struct {
	pool    *pgxpool.Pool
	store   *store.Store
	ledger  *fakeLedger
	client  ledgerv1.LedgerServiceClient
	tenants *tenantList
	applied *history.Applied
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.MigratedPool(t, "history", migrations.FS)
	f := &fixture{pool: pool, store: store.New(pool), ledger: newFakeLedger(), tenants: &tenantList{}, applied: history.NewApplied()}
	f.client = f.ledger.serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.applied.Listen(ctx, f.store, slog.New(slog.DiscardHandler)); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// start runs a projector until the returned stop is called (or the test ends).
func (f *fixture) start(t *testing.T) (*Projector, func()) {
	t.Helper()
	p := New(f.store, f.client, f.tenants, slog.New(slog.DiscardHandler), Config{
		TenantPoll: 50 * time.Millisecond, BatchSize: 50, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return p, stop
}

// awaitEntry waits, through the service's read-your-write path, until the
// history has applied e.
func (f *fixture) awaitEntry(t *testing.T, lag history.LagSource, tenant string, e *ledgerv1.Entry) {
	t.Helper()
	svc := history.NewService(f.store, everyoneExists{}, f.applied, lag)
	wait := 30 * time.Second
	_, _, err := svc.List(t.Context(), tenant, history.Filter{CustomerID: e.GetCustomerId()}, "", 1,
		history.Consistency{MinEntryID: e.GetEntryId(), MaxWait: &wait})
	if err != nil {
		t.Fatalf("await entry %d: %v", e.GetEntryId(), err)
	}
}

type row struct {
	ID, Balance                  int64
	Customer, Website, Action    int32
	Currency, Kind, Delta, After string
	Info                         string
	Notified                     bool
	UpdatedAt                    time.Time
}

// rows returns every history row of the tenant by id.
func (f *fixture) rows(t *testing.T, tenant string) []row {
	t.Helper()
	rs, err := f.pool.Query(t.Context(), `SELECT history_id, balance_id, customer_id, website_id, action, currency, kind,
			balance_delta::text, balance_amount::text, additional_info, customer_notified, updated_at
		FROM history.entries WHERE tenant_id = $1 ORDER BY history_id`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (row, error) {
		var x row
		var action int16
		err := r.Scan(&x.ID, &x.Balance, &x.Customer, &x.Website, &action, &x.Currency, &x.Kind, &x.Delta, &x.After,
			&x.Info, &x.Notified, &x.UpdatedAt)
		x.Action, x.UpdatedAt = int32(action), x.UpdatedAt.UTC()
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ledgerRows is what the rows must be: the ledger's entries, by id.
func ledgerRows(es []*ledgerv1.Entry) []row {
	out := make([]row, len(es))
	for i, e := range es {
		out[i] = row{ID: e.GetEntryId(), Balance: e.GetBalanceId(), Customer: e.GetCustomerId(), Website: e.GetWebsiteId(),
			Action: e.GetAction(), Currency: e.GetCurrency(), Kind: e.GetKind(), Delta: e.GetDelta(), After: e.GetBalanceAfter(),
			Info: e.GetComment(), Notified: e.GetNotifyCustomer(), UpdatedAt: e.GetPostTime().AsTime()}
	}
	slices.SortFunc(out, func(a, b row) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (f *fixture) checkExact(t *testing.T, tenant string) {
	t.Helper()
	// Decimal text may differ in trailing zeros only where the fake wrote
	// none: compare as posted.
	if diff := gocmp.Diff(ledgerRows(f.ledger.all(tenant)), f.rows(t, tenant)); diff != "" {
		t.Fatalf("tenant %s: history rows differ from the ledger's entries (-ledger +history):\n%s", tenant, diff)
	}
}

// The stream breaks every few dozen messages and the projector is stopped
// and started again; the rows still equal the ledger's entries exactly, for
// each tenant apart.
func TestProjectionIsExactlyOnceThroughFailuresAndRestarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ledger.failEvery = 40
	a, b := uuid.NewString(), uuid.NewString()
	f.tenants.ids = []string{a, b}
	f.ledger.postMany(a, 1200)
	f.ledger.postMany(b, 300)

	p, stop := f.start(t)
	lastA := f.ledger.postMany(a, 300) // live, while it catches up
	f.awaitEntry(t, p, a, lastA)
	stop()
	lastB := f.ledger.postMany(b, 200) // while stopped
	p, _ = f.start(t)
	f.awaitEntry(t, p, b, lastB)
	lastA = f.ledger.postMany(a, 50)
	f.awaitEntry(t, p, a, lastA)

	f.checkExact(t, a)
	f.checkExact(t, b)
	if f.ledger.streamsOpened() < 10 {
		t.Errorf("only %d streams opened: the failures were not exercised", f.ledger.streamsOpened())
	}
	lag, err := p.Lag(t.Context(), a)
	if err != nil || lag.Cursor != "pos-1550" || lag.EntriesBehind != 0 {
		t.Errorf("lag of a = %+v, %v; want cursor pos-1550, none behind", lag, err)
	}
}

// Two replicas project the same tenants at once: the advisory lock gives
// each tenant one follower, and the rows are exact.
func TestTwoReplicasProjectEachTenantOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ledger.failEvery = 100
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	f.tenants.ids = ids
	last := map[string]*ledgerv1.Entry{}
	for _, id := range ids {
		last[id] = f.ledger.postMany(id, 400)
	}
	p1, _ := f.start(t)
	p2, _ := f.start(t)
	for _, id := range ids {
		last[id] = f.ledger.postMany(id, 100)
	}
	for _, id := range ids {
		f.awaitEntry(t, p1, id, last[id])
		f.checkExact(t, id)
		on1, on2 := p1.follows(id), p2.follows(id)
		if on1 == on2 {
			t.Errorf("tenant %s followed by replica 1: %v, replica 2: %v; want exactly one", id, on1, on2)
		}
	}
}

// A reader waiting for an entry that the ledger does not have gives up
// after its wait with ErrNotApplied.
func TestWaitForAnEntryIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tenant := uuid.NewString()
	f.tenants.ids = []string{tenant}
	p, _ := f.start(t)
	e := f.ledger.post(tenant, 1, "USD", 0, "5.00")
	f.awaitEntry(t, p, tenant, e)

	svc := history.NewService(f.store, everyoneExists{}, f.applied, p)
	wait := 50 * time.Millisecond
	_, _, err := svc.List(t.Context(), tenant, history.Filter{CustomerID: 1}, "", 1, history.Consistency{MinEntryID: 1 << 40, MaxWait: &wait})
	if err == nil || !strings.Contains(err.Error(), "not applied") {
		t.Fatalf("err = %v, want not applied", err)
	}
}

func TestMetricsAreRegistered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tenant := uuid.NewString()
	f.tenants.ids = []string{tenant}
	p, _ := f.start(t)
	reg := prometheus.NewRegistry()
	if err := p.Register(reg); err != nil {
		t.Fatal(err)
	}
	f.awaitEntry(t, p, tenant, f.ledger.post(tenant, 1, "USD", 0, "5.00"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"history_projection_lag_seconds", "history_projection_lag_entries", "history_projection_stream_down_seconds", "history_projection_applied_entries_total", "history_projection_tenants", "history_projection_batch_entries"} {
		if !names[n] {
			t.Errorf("metric %s missing (have %v)", n, names)
		}
	}
}

// follows reports whether this replica projects the tenant.
func (p *Projector) follows(tenantID string) bool {
	_, ok := p.snapshot()[tenantID]
	return ok
}

// lagWhen polls the tenant's lag until ok accepts it. Polling only waits
// for the follower to notice what happened; no assertion is about time.
func lagWhen(t *testing.T, p *Projector, tenantID string, ok func(history.Lag) bool) history.Lag {
	t.Helper()
	for {
		l, err := p.Lag(t.Context(), tenantID)
		if err != nil {
			t.Fatalf("lag: %v", err)
		}
		if ok(l) {
			return l
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("lag never became as expected; last %+v", l)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// While the history cannot reach the ledger that others still post to, its
// lag counts the entries it missed, against the ledger's own head, and says
// that the stream is down and since when; once it is back, it catches up
// and says so.
func TestLagCountsEntriesTheStreamMissed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := uuid.NewString()
	f.tenants.ids = []string{a}
	p, _ := f.start(t)
	f.awaitEntry(t, p, a, f.ledger.postMany(a, 20))
	// The rows commit a moment before the follower moves its cursor in
	// memory: wait for both.
	caughtUp := func(l history.Lag) bool { return l.Connected && l.EntriesBehind == 0 }
	up := lagWhen(t, p, a, caughtUp)
	if !up.DisconnectedSince.IsZero() || up.HeadTime.IsZero() {
		t.Fatalf("caught up: lag = %+v; want 0 behind, no disconnection, a head time", up)
	}

	f.ledger.cut(true)
	cutAt := time.Now()
	last := f.ledger.postMany(a, 30)
	down := lagWhen(t, p, a, func(l history.Lag) bool { return !l.Connected })
	if down.EntriesBehind != 30 {
		t.Errorf("cut off: entries behind = %d, want 30 (the ledger's head, not what the stream delivered)", down.EntriesBehind)
	}
	if down.TimeBehind <= 0 {
		t.Errorf("cut off: time behind = %v, want the age of the oldest missed entry", down.TimeBehind)
	}
	if down.DisconnectedSince.IsZero() || down.DisconnectedSince.Before(cutAt) {
		t.Errorf("cut off: disconnected since %v, want a time after the cut at %v", down.DisconnectedSince, cutAt)
	}

	f.ledger.cut(false)
	f.awaitEntry(t, p, a, last)
	back := lagWhen(t, p, a, caughtUp)
	if back.TimeBehind != 0 || !back.DisconnectedSince.IsZero() {
		t.Errorf("back: lag = %+v; want caught up and connected", back)
	}
}

// A projection batch ends only where a ledger transaction ends, even past
// its size bound, so a reader never sees part of a transaction (an atomic
// batch of postings). Transactions of 7 entries through batches of at most
// 5: every count a reader sees is a multiple of 7.
func TestReadersNeverSeePartOfATransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := uuid.NewString()
	f.tenants.ids = []string{a}
	p := New(f.store, f.client, f.tenants, slog.New(slog.DiscardHandler), Config{
		TenantPoll: 50 * time.Millisecond, BatchSize: 5, Linger: time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	const tx, txs = 7, 60
	go func() {
		for range txs {
			f.ledger.postTx(a, tx)
		}
	}()
	seen := map[int64]bool{}
	for {
		var n int64
		if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM history.entries WHERE tenant_id = $1`, a).Scan(&n); err != nil {
			t.Fatal(err)
		}
		seen[n] = true
		if n%tx != 0 {
			t.Fatalf("a reader saw %d rows: part of a %d-entry transaction", n, tx)
		}
		if n == tx*txs {
			break
		}
	}
	t.Logf("the reader saw %d distinct counts", len(seen))
}

// A read that begins after a posting was acknowledged sees it, with no
// hint from the caller: the read waits for the ledger's head. Each of
// several clients posts and at once reads back, many times over; not one
// read may miss its own posting, while the projection is also restarted.
func TestReadsSeeEveryPostingBeforeThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := uuid.NewString()
	f.tenants.ids = []string{a}
	p, stop := f.start(t)
	svc := history.NewService(f.store, everyoneExists{}, f.applied, p)
	var mu sync.Mutex
	current := svc
	var wg sync.WaitGroup
	var misses []string
	miss := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		misses = append(misses, fmt.Sprintf(format, args...))
	}
	for client := range int32(4) {
		wg.Go(func() {
			for i := range 150 {
				e := f.ledger.post(a, client+1, "USD", 0, "1.00")
				mu.Lock()
				s := current
				mu.Unlock()
				rows, _, err := s.List(t.Context(), a, history.Filter{CustomerID: client + 1}, "", 1, history.Consistency{})
				switch {
				case errors.Is(err, history.ErrNotApplied):
					continue // allowed while the projection restarts: unavailable, never stale
				case err != nil:
					miss("client %d read %d: %v", client, i, err)
				case len(rows) == 0 || rows[0].HistoryID != e.GetEntryId():
					miss("client %d read %d: missed entry %d", client, i, e.GetEntryId())
				}
			}
		})
	}
	// Restart the projection in the middle of it all.
	f.awaitEntry(t, p, a, f.ledger.post(a, 9, "USD", 0, "1.00"))
	stop()
	p, _ = f.start(t)
	mu.Lock()
	current = history.NewService(f.store, everyoneExists{}, f.applied, p)
	mu.Unlock()
	wg.Wait()
	if len(misses) > 0 {
		t.Errorf("%d of 600 reads missed the posting acknowledged before them; the first: %s", len(misses), misses[0])
	}
}
