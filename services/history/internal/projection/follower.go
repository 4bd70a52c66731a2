package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/platform/pglisten"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// follower projects one tenant: it follows the ledger's stream from the
// stored cursor and applies what arrives in batches, each batch with the
// cursor after its last entry, in one transaction.
type follower struct {
	p      *Projector
	tenant string
	log    *slog.Logger

	applied   atomic.Int64 // entries applied since start
	connected atomic.Bool
	queued    atomic.Int64 // received, not yet in a batch
	inFlight  atomic.Int64 // in the batch being applied

	mu        sync.Mutex
	cursor    string    // stored cursor, as of the last commit
	advanced  int64     // stream positions the cursor has moved since start
	oldest    time.Time // post time of the oldest entry received and not applied; zero when none
	downSince time.Time // when the stream went down; zero while it is up
	head      head      // the ledger's stream head, as last read
}

// item is one received entry with the cursor to resume after it.
type item struct {
	entry  store.Entry
	cursor string
	// continues: the ledger's transaction goes on in the next item.
	continues bool
}

// run follows until ctx ends, reconnecting with capped exponential backoff
// (with jitter) after any failure; each attempt resumes from the stored
// cursor, which only ever moves with the rows it covers.
func (f *follower) run(ctx context.Context) {
	f.setDown(time.Now())
	go f.watchHead(ctx)
	backoff := pglisten.Wait{Min: f.p.cfg.MinBackoff, Max: f.p.cfg.MaxBackoff}
	failures := 0
	for ctx.Err() == nil {
		progressed, err := f.follow(ctx)
		f.connected.Store(false)
		f.setDown(time.Now())
		f.setOldest(time.Time{})
		f.queued.Store(0)
		f.inFlight.Store(0)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			backoff.Reset()
			failures = 0
		}
		failures++
		f.p.metrics.streamErrors.Inc()
		wait := backoff.Next()
		if status.Code(err) == codes.Unimplemented {
			wait = f.p.cfg.MaxBackoff
		}
		switch {
		case errors.Is(err, store.ErrCursorMoved):
			f.p.metrics.cursorConflicts.Inc()
			f.log.Warn("stream cursor moved under this projector; resuming from the stored cursor", "error", err.Error())
		case failures == 1:
			f.log.Warn("ledger stream interrupted; reconnecting", "error", err.Error(), "retry_in", wait.String())
		default:
			f.log.Debug("ledger stream still failing", "error", err.Error(), "failures", failures, "retry_in", wait.String())
		}
		if !pglisten.Sleep(ctx, wait) {
			return
		}
	}
}

// follow runs one stream from the stored cursor until it fails; progressed
// reports whether it applied anything.
func (f *follower) follow(ctx context.Context) (progressed bool, err error) {
	cursor, err := f.p.store.Cursor(ctx, f.tenant)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	f.cursor = cursor
	f.mu.Unlock()

	streamCtx, cancel := context.WithCancel(tenancy.WithTenant(ctx, f.tenant))
	defer cancel()
	// Wait for a ready connection rather than fail at once while it
	// reconnects: the stream then opens the moment the ledger is back,
	// without this loop's own backoff on top of the connection's.
	stream, err := f.p.ledger.WatchEntries(streamCtx, &ledgerv1.WatchEntriesRequest{Cursor: cursor}, grpc.WaitForReady(true))
	if err != nil {
		return false, fmt.Errorf("watch entries: %w", err)
	}
	items := make(chan item, f.p.cfg.Buffer)
	recvErr := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				recvErr <- fmt.Errorf("receive: %w", err)
				return
			}
			it, err := toItem(resp)
			if err != nil {
				recvErr <- err
				return
			}
			f.queued.Add(1)
			select {
			case items <- it:
			case <-streamCtx.Done():
				return
			}
		}
	}()
	f.connected.Store(true)
	f.setDown(time.Time{})

	batch := make([]item, 0, f.p.cfg.BatchSize)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case err := <-recvErr:
			return progressed, err
		case it := <-items:
			batch = append(batch, it)
		}
		// Then whatever arrives within the linger, up to the bound: under
		// load each ledger commit would otherwise cost a projection commit
		// (and its WAL flush) of its own. A batch ends only where a ledger
		// transaction ends, past the bound if need be (by at most one
		// transaction), so that no reader ever sees part of one, such as
		// part of an atomic batch of postings.
		linger := time.NewTimer(f.p.cfg.Linger)
		var streamErr error
	fill:
		for len(batch) < f.p.cfg.BatchSize || batch[len(batch)-1].continues {
			whole := !batch[len(batch)-1].continues
			var lingerC <-chan time.Time
			if whole {
				lingerC = linger.C
			}
			select {
			case it := <-items:
				batch = append(batch, it)
			case <-lingerC:
				break fill
			case streamErr = <-recvErr:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		linger.Stop()
		// Cut short inside a transaction: drop the part; the next stream
		// starts again from the stored cursor, before it.
		for len(batch) > 0 && batch[len(batch)-1].continues {
			batch = batch[:len(batch)-1]
		}
		if len(batch) == 0 {
			if streamErr == nil {
				streamErr = ctx.Err()
			}
			return progressed, streamErr
		}
		f.queued.Add(-int64(len(batch)))
		f.inFlight.Store(int64(len(batch)))
		f.setOldest(batch[0].entry.UpdatedAt)
		next, err := f.apply(ctx, cursor, batch)
		if err != nil {
			return progressed, err
		}
		cursor, progressed = next, true
		f.inFlight.Store(0)
		f.setOldest(time.Time{})
		if streamErr != nil {
			return progressed, streamErr
		}
	}
}

// apply commits one batch. A batch under way when shutdown begins still
// commits (within a bound): its work is done, and the cursor moves with it.
func (f *follower) apply(ctx context.Context, from string, batch []item) (string, error) {
	to := batch[len(batch)-1].cursor
	entries := make([]store.Entry, len(batch))
	for i, it := range batch {
		entries[i] = it.entry
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.p.cfg.CommitTimeout)
	defer cancel()
	start := time.Now()
	inserted, err := f.p.store.Apply(actx, f.tenant, from, to, entries)
	if err != nil {
		return "", err
	}
	f.p.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	f.p.metrics.batchSize.Observe(float64(len(batch)))
	if skipped := len(batch) - inserted; skipped > 0 {
		f.p.metrics.duplicates.Add(float64(skipped))
		f.log.Warn("ledger stream repeated entries; kept the first copies", "skipped", skipped)
	}
	f.mu.Lock()
	f.applied.Add(int64(inserted))
	f.cursor = to
	f.advanced += int64(len(batch))
	f.mu.Unlock()
	return to, nil
}

func (f *follower) setOldest(t time.Time) {
	f.mu.Lock()
	f.oldest = t
	f.mu.Unlock()
}

// setDown records when the stream went down (t), or that it is up (zero).
// A stream that keeps failing stays down since its first failure.
func (f *follower) setDown(t time.Time) {
	f.mu.Lock()
	if t.IsZero() || f.downSince.IsZero() {
		f.downSince = t
	}
	f.mu.Unlock()
}

// lag reports this follower's distance to the ledger: the entries after its
// cursor by the ledger's head as last read, less those applied since, and
// never less than what it holds received and not applied.
func (f *follower) lag(now time.Time) history.Lag {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := history.Lag{Cursor: f.cursor, Connected: f.connected.Load(), DisconnectedSince: f.downSince, HeadTime: f.head.read}
	if !f.head.read.IsZero() {
		l.EntriesBehind = max(f.head.behind-(f.advanced-f.head.advanced), 0)
		if l.EntriesBehind > 0 && !f.head.firstAfter.IsZero() {
			l.TimeBehind = max(now.Sub(f.head.firstAfter), 0)
		}
	}
	l.EntriesBehind = max(l.EntriesBehind, f.queued.Load()+f.inFlight.Load())
	if !f.oldest.IsZero() {
		l.TimeBehind = max(l.TimeBehind, now.Sub(f.oldest))
	}
	return l
}

// toItem checks and converts one streamed entry. A malformed entry stops
// the stream rather than being skipped: the projection never leaves a gap.
func toItem(resp *ledgerv1.WatchEntriesResponse) (item, error) {
	e := resp.GetEntry()
	switch {
	case e == nil:
		return item{}, errors.New("stream message without an entry")
	case resp.GetCursor() == "":
		return item{}, fmt.Errorf("entry %d without a cursor", e.GetEntryId())
	case e.GetEntryId() <= 0 || e.GetBalanceId() <= 0 || e.GetCustomerId() <= 0:
		return item{}, fmt.Errorf("entry %d: missing ids", e.GetEntryId())
	case e.GetCurrency() == "" || e.GetKind() == "":
		return item{}, fmt.Errorf("entry %d: missing currency or kind", e.GetEntryId())
	case e.GetPostTime() == nil || e.GetPostTime().CheckValid() != nil:
		return item{}, fmt.Errorf("entry %d: invalid post time", e.GetEntryId())
	}
	delta, err := decimal.NewFromString(e.GetDelta())
	if err != nil {
		return item{}, fmt.Errorf("entry %d: delta %q: %w", e.GetEntryId(), e.GetDelta(), err)
	}
	after, err := decimal.NewFromString(e.GetBalanceAfter())
	if err != nil {
		return item{}, fmt.Errorf("entry %d: balance after %q: %w", e.GetEntryId(), e.GetBalanceAfter(), err)
	}
	return item{cursor: resp.GetCursor(), continues: resp.GetContinues(), entry: store.Entry{
		HistoryID: e.GetEntryId(), BalanceID: e.GetBalanceId(), CustomerID: e.GetCustomerId(),
		Currency: e.GetCurrency(), WebsiteID: e.GetWebsiteId(), Kind: e.GetKind(), Action: e.GetAction(),
		BalanceDelta: delta, BalanceAmount: after, AdditionalInfo: e.GetComment(),
		CustomerNotified: e.GetNotifyCustomer(), UpdatedAt: e.GetPostTime().AsTime().UTC(),
	}}, nil
}
