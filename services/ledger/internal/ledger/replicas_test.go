package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
)

// Two ledger processes on one database, as two replicas behind a load
// balancer: their transactions interleave on the same balance rows and
// stream counters, and a retried key may reach either. Nothing deadlocks,
// each key posts once, and a reader on either sees one stream.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := testCtx(t)
	other := NewService(store.New(f.pool), f.dir, slog.New(slog.DiscardHandler), Config{MaxBatch: 7})
	otherCtx, stopOther := context.WithCancel(context.Background())
	var otherDone sync.WaitGroup
	otherDone.Go(func() { other.Run(otherCtx) })
	t.Cleanup(func() { stopOther(); otherDone.Wait() })
	replicas := []*Service{f.svc, other}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	w := watch(watchCtx, other, f.a, 0)

	const writers, each = 16, 40
	var mu sync.Mutex
	results := map[string][]Result{}
	g, gctx := errgroup.WithContext(ctx)
	for i := range writers {
		g.Go(func() error {
			for j := range each {
				// Every key is sent to both replicas, from two writers.
				key := fmt.Sprintf("k-%d-%d", i/2, j)
				p := Posting{CustomerID: int32(1 + j%2), Currency: "USD", Kind: KindPayment, Amount: fmt.Sprintf("%d.%02d", 1+i/2, j)}
				if j%5 == 0 {
					p = Posting{CustomerID: 3, Currency: "EUR", Kind: KindOrder, Amount: "0.5"}
				}
				res, err := replicas[i%2].Post(gctx, f.a, key, p)
				if err != nil {
					return fmt.Errorf("writer %d key %s: %w", i, key, err)
				}
				res.Replayed = false
				mu.Lock()
				results[key] = append(results[key], res)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for key, rs := range results {
		if len(rs) != 2 {
			t.Fatalf("key %s: %d answers", key, len(rs))
		}
		if diff := cmp.Diff(rs[0], rs[1], decimalEqual); diff != "" {
			t.Errorf("key %s: the replicas answered differently (-a +b):\n%s", key, diff)
		}
	}
	want := writers / 2 * each
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != int64(want) {
		t.Errorf("%d entries, want %d (one per key)", n, want)
	}
	checkChains(t, f, f.a)
	waitFor(t, ctx, fmt.Sprintf("the watcher has seen %d entries", want), func() bool { return len(w.seen()) >= want })
	stopWatch()
	<-w.done
	if !errors.Is(w.err, context.Canceled) {
		t.Errorf("watch ended with %v", w.err)
	}
	checkStream(t, w.seen(), want)
}

// A watcher whose process lost its LISTEN connection still gets entries
// committed by another process: the listener reconnects and wakes every
// watcher, and watchers poll meanwhile.
func TestWatchSurvivesALostListener(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, true)
	ctx := testCtx(t)
	reader := NewService(store.New(f.pool), f.dir, slog.New(slog.DiscardHandler), Config{})
	readerCtx, stopReader := context.WithCancel(context.Background())
	var readerDone sync.WaitGroup
	readerDone.Go(func() { reader.Run(readerCtx) })
	t.Cleanup(func() { stopReader(); readerDone.Wait() })

	w := watch(ctx, reader, f.a, 0)
	if _, err := f.svc.Post(ctx, f.a, "", payment(1, "USD", "1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the first entry arrives", func() bool { return len(w.seen()) == 1 })
	waitFor(t, ctx, "the listeners are cut", func() bool {
		return count(t, f.pool, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%') t`) > 0
	})
	for i := range 3 {
		if _, err := f.svc.Post(ctx, f.a, "", payment(1, "USD", fmt.Sprint(i+2))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "the later entries arrive", func() bool { return len(w.seen()) == 4 })
	checkStream(t, w.seen(), 4)
}

// A batch larger than a group is committed alone, whole.
func TestBatchLargerThanAGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxBatch: 3}, true)
	ctx := testCtx(t)
	var ps []Posting
	for i := range 10 {
		ps = append(ps, payment(int32(1+i%2), "USD", "1"))
	}
	g, gctx := errgroup.WithContext(ctx)
	for range 4 {
		g.Go(func() error {
			_, err := f.svc.PostBatch(gctx, f.a, "", ps)
			return err
		})
		g.Go(func() error {
			_, err := f.svc.Post(gctx, f.a, "", payment(3, "USD", "1"))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != 44 {
		t.Errorf("%d entries, want 44", n)
	}
	checkChains(t, f, f.a)
}
