package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"
)

// watcher follows a tenant's stream from the start and records what it is
// sent.
type watcher struct {
	mu      sync.Mutex
	entries []Entry
	err     error
	done    chan struct{}
}

func watch(ctx context.Context, svc *Service, tenantID string, after int64) *watcher {
	w := &watcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		err := svc.Watch(ctx, tenantID, after, func(e Entry) error {
			w.mu.Lock()
			w.entries = append(w.entries, e)
			w.mu.Unlock()
			return nil
		})
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}()
	return w
}

func (w *watcher) seen() []Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Entry(nil), w.entries...)
}

// checkStream checks what a watcher saw: every entry exactly once, stream
// positions 1..n in order, and each balance's entries a valid chain from 0.
func checkStream(t *testing.T, seen []Entry, want int) {
	t.Helper()
	if len(seen) != want {
		t.Fatalf("watcher saw %d entries, want %d", len(seen), want)
	}
	ids := map[int64]bool{}
	last := map[int64]decimal.Decimal{}
	for i, e := range seen {
		if e.StreamSeq != int64(i+1) {
			t.Fatalf("entry %d has stream position %d, want %d", i, e.StreamSeq, i+1)
		}
		if ids[e.ID] {
			t.Fatalf("entry %d seen twice", e.ID)
		}
		ids[e.ID] = true
		if want := last[e.BalanceID].Add(e.Delta); !e.BalanceAfter.Equal(want) {
			t.Fatalf("entry %d: balance after %s, want previous %s + delta %s", e.ID, e.BalanceAfter, last[e.BalanceID], e.Delta)
		}
		last[e.BalanceID] = e.BalanceAfter
	}
}

// Many writers over three hot customers while a reader follows the stream:
// the reader sees each entry exactly once, in an order that is every
// balance's chain.
func TestWatchWithConcurrentWriters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := testCtx(t)
	const writers, each = 32, 50
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	w := watch(watchCtx, f.svc, f.a, 0)
	other := watch(watchCtx, f.svc, f.b, 0)

	g, gctx := errgroup.WithContext(ctx)
	for i := range writers {
		g.Go(func() error {
			for j := range each {
				p := Posting{CustomerID: int32(1 + (i+j)%3), Currency: "USD", Kind: KindAdjustment, Amount: fmt.Sprintf("%d.%02d", j%7-3, i)}
				if p.Amount == "0.00" {
					p.Amount = "0.01"
				}
				if _, err := f.svc.Post(gctx, f.a, "", p); err != nil {
					return fmt.Errorf("writer %d posting %d: %w", i, j, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, fmt.Sprintf("the watcher has seen %d entries", writers*each), func() bool {
		return len(w.seen()) >= writers*each
	})
	stopWatch()
	<-w.done
	<-other.done
	checkStream(t, w.seen(), writers*each)
	if n := len(other.seen()); n != 0 {
		t.Errorf("tenant b's watcher saw %d of tenant a's entries", n)
	}
	checkChains(t, f, f.a)
	if st := f.svc.Stats(); st.Transactions >= st.Postings {
		t.Logf("no grouping happened (%+v); possible on a very slow machine, not a failure", st)
	}

	// Resuming from a position sees exactly the rest.
	rest := watch(ctx, f.svc, f.a, writers*each-10)
	waitFor(t, ctx, "the resumed watcher has seen 10 entries", func() bool { return len(rest.seen()) >= 10 })
	if s := rest.seen(); s[0].StreamSeq != writers*each-9 {
		t.Errorf("resumed at %d, want %d", s[0].StreamSeq, writers*each-9)
	}
}

// blockCommits holds the tenant's stream counter lock from another
// session, so the committer's next transaction for the tenant waits at it.
func blockCommits(t *testing.T, f *fixture, tenantID string) (release func()) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.svc.Post(ctx, tenantID, "", payment(5, "USD", "1")); err != nil { // creates the counter row
		t.Fatal(err)
	}
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM ledger.streams WHERE tenant_id = $1 FOR UPDATE`, tenantID); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(context.Background()) }) }
	t.Cleanup(release)
	return release
}

func waitingForLock(t *testing.T, f *fixture) func() bool {
	return func() bool {
		return count(t, f.pool, `SELECT count(*) FROM pg_locks WHERE NOT granted`) > 0
	}
}

// On shutdown the service refuses new postings, ends watches, and commits
// every posting already queued before Run returns.
func TestShutdownDrainsTheQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := testCtx(t)
	release := blockCommits(t, f, f.a)
	w := watch(ctx, f.svc, f.a, 0)

	var ok atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // this one's transaction waits at the lock
		if _, err := f.svc.Post(ctx, f.a, "", payment(1, "USD", "1")); err == nil {
			ok.Add(1)
		}
	})
	waitFor(t, ctx, "the committer waits for the lock", waitingForLock(t, f))
	queued := make([]*request, 20)
	for i := range queued {
		queued[i] = f.prepare(t, f.a, fmt.Sprint("q", i), false, payment(2, "USD", "1"))
		if err := f.svc.committer.submit(ctx, queued[i]); err != nil {
			t.Fatal(err)
		}
	}
	stopped := make(chan struct{})
	go func() {
		f.stop()
		close(stopped)
	}()
	<-w.done
	if !errors.Is(w.err, ErrUnavailable) {
		t.Errorf("watch ended with %v, want ErrUnavailable", w.err)
	}
	waitFor(t, ctx, "the committer stops taking work", func() bool {
		f.svc.committer.mu.RLock()
		defer f.svc.committer.mu.RUnlock()
		return f.svc.committer.closed
	})
	if _, err := f.svc.Post(ctx, f.a, "", payment(3, "USD", "1")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("posting after shutdown began: %v, want ErrUnavailable", err)
	}
	release()
	<-stopped
	wg.Wait()
	if ok.Load() != 1 {
		t.Error("the posting in flight at shutdown failed")
	}
	for i, r := range queued {
		if o := <-r.done; o.err != nil {
			t.Errorf("queued posting %d: %v", i, o.err)
		}
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries WHERE tenant_id = $1", f.a); n != 22 {
		t.Errorf("%d entries, want 1 + 1 + 20", n)
	}
	checkChains(t, f, f.a)
}
