package projection

import (
	"context"
	"sync"
	"time"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// head is what a follower last learned of the ledger's stream head. The
// stream itself cannot tell a follower how far behind it is: entries it
// has not received are invisible to it, for instance while it cannot reach
// the ledger that others still post to. So the follower asks the ledger.
type head struct {
	read       time.Time // when; zero if never
	lastEntry  int64     // the id of the stream's last entry then; 0 if none
	behind     int64     // entries after the follower's cursor then
	firstAfter time.Time // post time of the first of them
	advanced   int64     // the follower's advanced count then
}

// headTimeout bounds one read of the head: a ledger that cannot answer in
// that time leaves the last reading in place, with its time.
const headTimeout = 2 * time.Second

// watchHead reads the ledger's head every HeadPoll until ctx ends.
func (f *follower) watchHead(ctx context.Context) {
	tick := time.NewTicker(f.p.cfg.HeadPoll)
	defer tick.Stop()
	for {
		if err := f.readHead(ctx); err != nil && ctx.Err() == nil {
			f.log.Debug("cannot read the ledger's stream head", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// readHead asks the ledger how far the follower's cursor is behind.
func (f *follower) readHead(ctx context.Context) error {
	f.mu.Lock()
	cursor, advanced := f.cursor, f.advanced
	f.mu.Unlock()
	h, err := f.p.readHead(ctx, f.tenant, cursor)
	if err != nil {
		return err
	}
	h.advanced = advanced
	f.mu.Lock()
	f.head = h
	f.mu.Unlock()
	return nil
}

// readHead reads the tenant's stream head from the ledger, measured from
// cursor.
func (p *Projector) readHead(ctx context.Context, tenantID, cursor string) (head, error) {
	ctx, cancel := context.WithTimeout(tenancy.WithTenant(ctx, tenantID), headTimeout)
	defer cancel()
	resp, err := p.ledger.GetStreamHead(ctx, &ledgerv1.GetStreamHeadRequest{Cursor: cursor})
	if err != nil {
		return head{}, err
	}
	h := head{read: time.Now(), lastEntry: resp.GetHeadEntryId(), behind: resp.GetEntriesAfterCursor()}
	if t := resp.GetFirstAfterCursorTime(); t != nil {
		h.firstAfter = t.AsTime()
	}
	return h, nil
}

// Lag implements history.LagSource. For a tenant this replica follows, the
// head is read afresh (the last reading stands when the ledger does not
// answer); for another, the stored cursor is measured against the head.
func (p *Projector) Lag(ctx context.Context, tenantID string) (history.Lag, error) {
	p.mu.Lock()
	r, ok := p.followers[tenantID]
	p.mu.Unlock()
	if ok {
		_ = r.f.readHead(ctx)
		return r.f.lag(time.Now()), nil
	}
	cursor, _, _, err := p.store.StoredCursor(ctx, tenantID)
	if err != nil {
		return history.Lag{}, err
	}
	l := history.Lag{Cursor: cursor}
	if h, err := p.readHead(ctx, tenantID, cursor); err == nil {
		l.HeadTime, l.EntriesBehind = h.read, h.behind
		if h.behind > 0 && !h.firstAfter.IsZero() {
			l.TimeBehind = max(h.read.Sub(h.firstAfter), 0)
		}
	}
	return l, nil
}

// HeadEntryID implements history.LagSource: what a read must wait for to
// see every posting acknowledged before it began.
func (p *Projector) HeadEntryID(ctx context.Context, tenantID string) (int64, error) {
	return p.heads.get(ctx, tenantID, func(ctx context.Context) (int64, error) {
		h, err := p.readHead(ctx, tenantID, "")
		return h.lastEntry, err
	})
}

// headReads shares reads of the ledger's head among the history reads of a
// tenant that ask at the same time, without ever giving a read an answer
// older than the read itself: a read joins only a ledger call that has not
// started yet, so the head it gets was read after it asked. While one call
// is under way, the reads that arrive wait for the next one, which starts
// when the current one ends; under load a single call answers many reads.
type headReads struct {
	mu      sync.Mutex
	tenants map[string]*headQueue
}

type headQueue struct {
	running bool       // a call is under way
	next    *headFetch // the call the reads arriving now will share
}

type headFetch struct {
	done chan struct{}
	id   int64
	err  error
}

// get returns the tenant's head entry id as read by a call that started
// after get was called.
func (h *headReads) get(ctx context.Context, tenantID string, read func(ctx context.Context) (int64, error)) (int64, error) {
	h.mu.Lock()
	if h.tenants == nil {
		h.tenants = map[string]*headQueue{}
	}
	q := h.tenants[tenantID]
	if q == nil {
		q = &headQueue{}
		h.tenants[tenantID] = q
	}
	if q.next == nil {
		q.next = &headFetch{done: make(chan struct{})}
	}
	f := q.next
	if !q.running {
		h.start(tenantID, q, read)
	}
	h.mu.Unlock()
	select {
	case <-f.done:
		return f.id, f.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// start runs the queued call, then the one queued meanwhile, if any. The
// calls have their own bound: a reader that gives up does not cut the
// call the others share. h.mu is held.
func (h *headReads) start(tenantID string, q *headQueue, read func(ctx context.Context) (int64, error)) {
	f := q.next
	q.next, q.running = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
		f.id, f.err = read(ctx)
		cancel()
		close(f.done)
		h.mu.Lock()
		defer h.mu.Unlock()
		q.running = false
		switch {
		case q.next != nil:
			h.start(tenantID, q, read)
		default:
			delete(h.tenants, tenantID)
		}
	}()
}
