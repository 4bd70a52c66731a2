package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/abacus-ledger/abacus/dev/devstack"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// historyProcs is a process set of its own (customer, ledger, history) on a
// database of its own, so that this test can stop and kill its processes
// without disturbing the shared stack. It runs the binaries the shared
// stack built.
type historyProcs struct {
	*devstack.Stack
	t     *testing.T
	dbURL string
	conns map[string]*grpc.ClientConn
}

func startHistoryProcs(t *testing.T, extraEnv ...string) *historyProcs {
	t.Helper()
	ctx := t.Context()
	dbURL, drop, err := newDatabase(ctx, "abacus_e2e_hist_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	procs, err := startProcs(ctx, sys.binDir, t.TempDir(), dbURL, sys.token, devstack.Services, extraEnv...)
	if err != nil {
		t.Fatal(err)
	}
	p := &historyProcs{Stack: procs, t: t, dbURL: dbURL, conns: map[string]*grpc.ClientConn{}}
	t.Cleanup(func() {
		p.Stop()
		for _, c := range p.conns {
			c.Close()
		}
		if t.Failed() {
			t.Logf("process logs (tails):\n%s", p.Logs(20000))
		}
	})
	for _, n := range devstack.Services {
		conn, err := grpc.NewClient(p.Addr(n), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(sys.token)...)...)
		if err != nil {
			t.Fatal(err)
		}
		p.conns[n] = conn
	}
	return p
}

// start runs the named process again and waits until it serves.
func (p *historyProcs) start(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 60*time.Second)
	defer cancel()
	if err := p.Proc(name).Start(ctx); err != nil {
		p.t.Fatal(err)
	}
}

// launch runs the named process again without waiting for it.
func (p *historyProcs) launch(name string) {
	p.t.Helper()
	if err := p.Proc(name).Launch(); err != nil {
		p.t.Fatal(err)
	}
}

// stop ends the named process with SIGTERM (a graceful stop).
func (p *historyProcs) stop(name string) { p.Proc(name).Stop(20 * time.Second) }

// kill ends the named process with SIGKILL: no cleanup of any kind.
func (p *historyProcs) kill(name string) { p.Proc(name).Kill() }

// historyRow is a history row or a ledger entry, as compared.
type historyRow struct {
	ID, Balance       int64
	Customer, Website int32
	Action            int16
	Currency, Kind    string
	Delta, After      string
	Comment           string
	Notify            bool
	At                time.Time
}

// historyCompareRows reads the tenant's ledger entries and history rows
// straight from the two schemas (the test's oracle; the services never read
// each other's tables) and requires them equal: same ids, no gaps, no
// duplicates, same values.
func (p *historyProcs) historyCompareRows(t *testing.T, tenant string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), p.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	read := func(sql string) []historyRow {
		rows, err := conn.Query(t.Context(), sql, tenant)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (historyRow, error) {
			var x historyRow
			err := r.Scan(&x.ID, &x.Balance, &x.Customer, &x.Website, &x.Action, &x.Currency, &x.Kind, &x.Delta, &x.After, &x.Comment, &x.Notify, &x.At)
			return x, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ledger := read(`SELECT entry_id, balance_id, customer_id, website_id, action, currency, kind, delta::text, balance_after::text,
		comment, notify_customer, post_time FROM ledger.entries WHERE tenant_id = $1 ORDER BY entry_id`)
	hist := read(`SELECT history_id, balance_id, customer_id, website_id, action, currency, kind, balance_delta::text,
		balance_amount::text, additional_info, customer_notified, updated_at FROM history.entries WHERE tenant_id = $1 ORDER BY history_id`)
	if len(ledger) != len(hist) {
		t.Fatalf("ledger has %d entries, history %d rows", len(ledger), len(hist))
	}
	for i := range ledger {
		if ledger[i] != hist[i] {
			t.Fatalf("row %d differs:\nledger  %+v\nhistory %+v", i, ledger[i], hist[i])
		}
	}
	return len(hist)
}

func (p *historyProcs) historyRowCount(ctx context.Context, tenant string) (int, error) {
	conn, err := pgx.Connect(ctx, p.dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM history.entries WHERE tenant_id = $1`, tenant).Scan(&n)
	return n, err
}

// historyPostBacklog posts n entries over the customers: batches of
// postings (one transaction each) and single postings from concurrent
// callers, so entries of one transaction share a post time and entry ids
// commit out of order. It returns the entry with the highest id.
func historyPostBacklog(t *testing.T, ctx context.Context, l ledgerv1.LedgerServiceClient, customers []int32, n int) *ledgerv1.Entry {
	t.Helper()
	posting := func() *ledgerv1.Posting {
		amount := fmt.Sprintf("%d.%02d", rand.IntN(200)+1, rand.IntN(100))
		p := &ledgerv1.Posting{CustomerId: customers[rand.IntN(len(customers))], Currency: []string{"USD", "EUR"}[rand.IntN(2)],
			WebsiteId: int32(rand.IntN(3)), Kind: "PAYMENT", Amount: amount, Comment: "backlog " + randomHex(2), NotifyCustomer: rand.IntN(2) == 0}
		switch rand.IntN(4) {
		case 0:
			p.Kind = "ORDER"
		case 1:
			p.Kind, p.Action = "STORE_CREDIT", int32(1+rand.IntN(5))
			if p.Action <= 2 && rand.IntN(2) == 0 {
				p.Amount = "-" + amount
			}
		}
		return p
	}
	var mu sync.Mutex
	var last *ledgerv1.Entry
	keep := func(es ...*ledgerv1.Entry) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range es {
			if last == nil || e.GetEntryId() > last.GetEntryId() {
				last = e
			}
		}
	}
	var (
		wg       sync.WaitGroup
		slots    = make(chan struct{}, 8)
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for posted := 0; posted < n; {
		size := min(n-posted, 1+rand.IntN(200))
		if rand.IntN(2) == 0 {
			size = 1
		}
		posted += size
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if size == 1 {
				resp, err := l.PostEntry(ctx, &ledgerv1.PostEntryRequest{Posting: posting(), IdempotencyKey: "b-" + randomHex(8)})
				if err != nil {
					fail(err)
					return
				}
				keep(resp.GetEntry())
				return
			}
			req := &ledgerv1.BatchPostEntriesRequest{IdempotencyKey: "b-" + randomHex(8)}
			for range size {
				req.Postings = append(req.Postings, posting())
			}
			resp, err := l.BatchPostEntries(ctx, req)
			if err != nil {
				fail(err)
				return
			}
			keep(resp.GetEntries()...)
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("post backlog: %v", firstErr)
	}
	return last
}

// The history is stopped, killed in the middle of catching up a backlog
// (SIGKILL, no cleanup), cut off from a stopped ledger, and started again;
// once it has caught up, its rows equal the ledger's entries exactly. Then
// the balance at many random instants equals the balance after the last
// ledger entry at or before the instant.
func TestHistoryProjectionSurvivesKillsAndOutages(t *testing.T) {
	t.Parallel()
	// Small batches: the catch-up is many transactions, so a kill lands in
	// the middle of one.
	p := startHistoryProcs(t, "ABACUS_HISTORY_BATCH_SIZE=7", "ABACUS_HISTORY_TENANT_POLL=500ms")
	ctx := t.Context()
	admin := customerv1.NewTenantAdminServiceClient(p.conns["customer"])
	tr, err := admin.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: "History kills", Company: "hk-" + randomHex(4)})
	if err != nil {
		t.Fatal(err)
	}
	tenant := tr.GetTenant().GetTenantId()
	tctx := tenancy.WithTenant(ctx, tenant)
	c := historyClientsOf(p.conns)
	customers := c.historyCreateCustomers(t, tctx, 5)

	p.stop("history")
	historyPostBacklog(t, tctx, c.ledger, customers, 3000) // while the history is down

	applied, posted, midway := 0, 3000, 0
	for round := range 3 {
		// Kill as soon as the catch-up is under way (the count moved).
		p.launch("history")
		before := applied
		for deadline := time.Now().Add(60 * time.Second); applied == before && time.Now().Before(deadline); {
			if applied, err = p.historyRowCount(ctx, tenant); err != nil {
				t.Fatal(err)
			}
		}
		p.kill("history")
		if applied, err = p.historyRowCount(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed the history during its catch-up with %d of %d rows applied", round, applied, posted)
		if applied < posted {
			midway++
		}
		historyPostBacklog(t, tctx, c.ledger, customers, 1000)
		posted += 1000
	}
	if midway == 0 {
		t.Error("no kill landed before the catch-up ended; the test proved less than it should")
	}

	// A ledger outage while the history follows.
	p.start("history")
	c.historyAwait(t, tctx, historyPostBacklog(t, tctx, c.ledger, customers, 200))
	p.stop("ledger")
	p.start("ledger")
	last := historyPostBacklog(t, tctx, c.ledger, customers, 500)
	c.historyAwait(t, tctx, last)

	n := p.historyCompareRows(t, tenant)
	if n != 6700 {
		t.Errorf("%d rows, want 6700", n)
	}
	lag, err := c.history.GetLag(tctx, &historyv1.GetLagRequest{})
	if err != nil || lag.GetCursor() == "" {
		t.Errorf("lag = %v, %v", lag, err)
	}
	historyCheckRandomInstants(t, p, tctx, c.history, tenant, customers)
}

// historyCheckRandomInstants compares GetBalanceAt at random instants with
// the ledger: per balance, the balance after its last entry (in the ledger's
// own chain order) posted at or before the instant.
func historyCheckRandomInstants(t *testing.T, p *historyProcs, ctx context.Context, h historyv1.HistoryServiceClient, tenant string, customers []int32) {
	t.Helper()
	conn, err := pgx.Connect(ctx, p.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	type entry struct {
		customer, website int32
		currency          string
		seq               int64
		after             decimal.Decimal
		at                time.Time
	}
	rows, err := conn.Query(ctx, `SELECT customer_id, website_id, currency, stream_seq, balance_after, post_time
		FROM ledger.entries WHERE tenant_id = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		err := r.Scan(&e.customer, &e.website, &e.currency, &e.seq, &e.after, &e.at)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	first, last := entries[0].at, entries[0].at
	for _, e := range entries {
		first, last = historyMinTime(first, e.at), historyMaxTime(last, e.at)
	}
	type key struct {
		website  int32
		currency string
	}
	for i := range 300 {
		at := first.Add(-time.Millisecond).Add(time.Duration(rand.Int64N(int64(last.Sub(first) + 2*time.Millisecond))))
		if i%3 == 0 { // exactly at an entry's post time
			at = entries[rand.IntN(len(entries))].at
		}
		cust := customers[rand.IntN(len(customers))]
		want := map[key]entry{}
		for _, e := range entries {
			if e.customer != cust || e.at.After(at) {
				continue
			}
			k := key{e.website, e.currency}
			if w, ok := want[k]; !ok || e.seq > w.seq {
				want[k] = e
			}
		}
		resp, err := h.GetBalanceAt(ctx, &historyv1.GetBalanceAtRequest{CustomerId: cust, Time: timestamppb.New(at)})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetBalances()) != len(want) {
			t.Fatalf("customer %d at %s: %d balances, want %d", cust, at, len(resp.GetBalances()), len(want))
		}
		for _, b := range resp.GetBalances() {
			w := want[key{b.GetWebsiteId(), b.GetCurrency()}]
			if !decimal.RequireFromString(b.GetBalance()).Equal(w.after) {
				t.Fatalf("customer %d at %s, %s website %d: %s, want %s", cust, at, b.GetCurrency(), b.GetWebsiteId(), b.GetBalance(), w.after)
			}
		}
	}
}

func historyMinTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func historyMaxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
