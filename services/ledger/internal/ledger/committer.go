package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
)

// request is one PostEntry or BatchPostEntries call waiting for the
// committer: valid postings of one tenant, all or none.
type request struct {
	ctx      context.Context
	tenantID string
	key      string // "" for none
	hash     []byte
	postings []valid
	done     chan outcome // buffered: the committer never waits for the caller

	out    outcome  // what was sent on done
	leader *request // an earlier request of the group with the same key
}

type outcome struct {
	res Result
	err error
}

func (r *request) finish(o outcome) {
	r.out = o
	r.done <- o
}

// Stats count the committer's work since start.
type Stats struct {
	Transactions int64 // committed posting transactions
	Postings     int64 // entries they wrote
	Splits       int64 // groups split after a refused transaction
	Retries      int64 // transactions run again after a deadlock or serialization failure
}

// committer group-commits postings: one goroutine takes every request
// waiting in its queue, up to maxBatch postings, and commits them in one
// transaction; while that transaction commits, the next group accumulates
// in the queue.
type committer struct {
	st        *store.Store
	log       *slog.Logger
	maxBatch  int
	txTimeout time.Duration
	join      func(ctx context.Context, name string, callers []context.Context) (context.Context, func(error)) // nil: tracing off
	queue     chan *request
	committed func(tenantID string, upTo int64) // told after each COMMIT: the tenant's stream reaches upTo

	transactions, postings, splits, retries atomic.Int64

	mu      sync.RWMutex
	closed  bool
	senders sync.WaitGroup
}

func newCommitter(st *store.Store, log *slog.Logger, cfg Config, committed func(string, int64)) *committer {
	return &committer{
		st: st, log: log, maxBatch: cfg.MaxBatch, txTimeout: cfg.TxTimeout, join: cfg.Join,
		queue: make(chan *request, cfg.QueueSize), committed: committed,
	}
}

// submit queues r, waiting while the queue is full. It refuses work once
// the committer is shutting down.
func (c *committer) submit(ctx context.Context, r *request) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return fmt.Errorf("%w: the ledger is shutting down", ErrUnavailable)
	}
	c.senders.Add(1)
	c.mu.RUnlock()
	defer c.senders.Done()
	select {
	case c.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeQueue stops accepting work; the queue is closed once every submit
// under way has returned, which ends run after it has committed the rest.
func (c *committer) closeQueue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	go func() {
		c.senders.Wait()
		close(c.queue)
	}()
}

// run commits groups until ctx ends, then drains the queue and returns.
// Work is refused from the moment ctx ends, even while a transaction is
// under way. Transactions run on a context of their own: a shutdown never
// cuts one.
func (c *committer) run(ctx context.Context) {
	context.AfterFunc(ctx, c.closeQueue) // the queue closes only after this, so run returns only after it
	work := context.WithoutCancel(ctx)
	var carry []*request // taken from the queue, not yet committed
	for {
		var group []*request
		n := 0
		for len(carry) > 0 && (len(group) == 0 || n+len(carry[0].postings) <= c.maxBatch) {
			group, n, carry = append(group, carry[0]), n+len(carry[0].postings), carry[1:]
		}
		if len(group) == 0 {
			r, ok := <-c.queue
			if !ok {
				return
			}
			group, n = append(group, r), len(r.postings)
		}
	fill:
		for len(carry) == 0 && n < c.maxBatch {
			select {
			case r, ok := <-c.queue:
				if !ok {
					break fill
				}
				if n+len(r.postings) > c.maxBatch {
					carry = append(carry, r)
					break fill
				}
				group, n = append(group, r), n+len(r.postings)
			default:
				break fill
			}
		}
		carry = append(c.process(work, group), carry...)
	}
}

// process commits a group and answers every request in it, except those
// it returns, which must go in the next group.
//
// A request repeating the idempotency key of an earlier one in the group
// waits for that one: if it committed (or replayed), the repeat is answered
// as its replay when identical, else ALREADY_EXISTS; if it failed, the
// repeat goes in the next group on its own.
func (c *committer) process(ctx context.Context, group []*request) (next []*request) {
	leaders := make([]*request, 0, len(group))
	byKey := map[store.KeyRef]*request{}
	var followers []*request
	for _, r := range group {
		r.leader = nil
		if err := r.ctx.Err(); err != nil {
			r.finish(outcome{err: err}) // the caller has gone: write nothing
			continue
		}
		if r.key != "" {
			ref := store.KeyRef{TenantID: r.tenantID, Key: r.key}
			if l, ok := byKey[ref]; ok {
				r.leader = l
				followers = append(followers, r)
				continue
			}
			byKey[ref] = r
		}
		leaders = append(leaders, r)
	}
	if len(leaders) > 0 {
		c.commitOrSplit(ctx, leaders)
	}
	for _, f := range followers {
		l := f.leader
		switch {
		case l.out.err != nil:
			next = append(next, f)
		case bytes.Equal(f.hash, l.hash):
			res := l.out.res
			res.Replayed = true
			f.finish(outcome{res: res})
		default:
			f.finish(outcome{err: keyReused(f.key)})
		}
	}
	return next
}

func keyReused(key string) error {
	return fmt.Errorf("%w: %q was first sent with a different request; a new posting needs a new key", ErrKeyReused, key)
}

// commitOrSplit commits reqs in one transaction and answers them. When the
// database refuses the transaction, it splits reqs in halves and commits
// each (in queue order), down to the one request at fault, so that one bad
// posting never fails the others of its group.
func (c *committer) commitOrSplit(ctx context.Context, reqs []*request) {
	outs, err := c.commit(ctx, reqs)
	switch {
	case err == nil:
		for i, r := range reqs {
			r.finish(outs[i])
		}
	case errors.Is(err, store.ErrCommitUnknown):
		c.log.ErrorContext(ctx, "posting transaction: commit outcome unknown", "requests", len(reqs), "error", err.Error())
		for _, r := range reqs {
			r.finish(outcome{err: ErrOutcomeUnknown})
		}
	case store.Refused(err) && len(reqs) > 1:
		c.splits.Add(1)
		mid := len(reqs) / 2
		c.commitOrSplit(ctx, reqs[:mid])
		c.commitOrSplit(ctx, reqs[mid:])
	case store.Refused(err):
		reqs[0].finish(outcome{err: fmt.Errorf("post for tenant %s: %w", reqs[0].tenantID, err)})
	default:
		// The database is unreachable or cut the transaction: splitting
		// would only repeat the failure, and nothing was written.
		c.log.ErrorContext(ctx, "posting transaction failed", "requests", len(reqs), "error", err.Error())
		for _, r := range reqs {
			r.finish(outcome{err: fmt.Errorf("%w: the ledger's database: %w", ErrUnavailable, err)})
		}
	}
}

// commit runs the group's transaction, again after a deadlock or a
// serialization failure (neither should happen given the lock order).
func (c *committer) commit(ctx context.Context, reqs []*request) ([]outcome, error) {
	for attempt := 1; ; attempt++ {
		outs, err := c.commitOnce(ctx, reqs)
		if err == nil || !store.Retryable(err) || attempt == 3 {
			return outs, err
		}
		c.retries.Add(1)
	}
}

func balanceKey(tenantID string, p valid) store.BalanceKey {
	return store.BalanceKey{TenantID: tenantID, CustomerID: p.CustomerID, Currency: p.Currency, WebsiteID: p.WebsiteID}
}

// commitOnce is one posting transaction for reqs, in one round trip (see
// store.PostGroup). Balances after each entry follow queue order, and
// stream positions the same order, so every balance's chain reads in
// stream order.
func (c *committer) commitOnce(ctx context.Context, reqs []*request) (_ []outcome, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.txTimeout)
	defer cancel()
	if c.join != nil {
		callers := make([]context.Context, len(reqs))
		for i, r := range reqs {
			callers[i] = r.ctx
		}
		var end func(error)
		ctx, end = c.join(ctx, "ledger.post_group", callers)
		defer func() { end(err) }()
	}
	var postings []store.GroupPosting
	var claims []store.GroupClaim
	for i, r := range reqs {
		if r.key != "" {
			claims = append(claims, store.GroupClaim{Req: i, Key: r.key, RequestHash: r.hash})
		}
		for _, p := range r.postings {
			postings = append(postings, store.GroupPosting{
				Req: i, BalanceKey: balanceKey(r.tenantID, p), Kind: string(p.Kind), Action: p.Action,
				Delta: p.delta, Scale: p.scale, Comment: p.Comment, NotifyCustomer: p.NotifyCustomer, Key: r.key,
			})
		}
	}
	posted, taken, notified, err := c.st.PostGroup(ctx, postings, claims)
	if err != nil {
		return nil, err
	}
	if !notified {
		c.log.WarnContext(ctx, "stream notification not sent; readers in other processes will poll")
	}
	outs := make([]outcome, len(reqs))
	entries := make([][]Entry, len(reqs))
	upTo := map[string]int64{}
	for _, p := range posted {
		gp := postings[p.Pos]
		entries[gp.Req] = append(entries[gp.Req], Entry{
			ID: p.EntryID, StreamSeq: p.StreamSeq, BalanceID: p.BalanceID, CustomerID: gp.CustomerID,
			Currency: gp.Currency, Scale: gp.Scale, WebsiteID: gp.WebsiteID, Kind: Kind(gp.Kind), Action: gp.Action,
			Delta: gp.Delta, BalanceAfter: p.BalanceAfter, IdempotencyKey: gp.Key, Comment: gp.Comment,
			NotifyCustomer: gp.NotifyCustomer, PostTime: p.PostTime,
		})
		upTo[gp.TenantID] = max(upTo[gp.TenantID], p.StreamSeq)
	}
	for i, es := range entries {
		if es != nil {
			outs[i].res = resultOf(es)
		}
	}
	// The group has committed: a replay that cannot be read fails alone.
	for _, t := range taken {
		outs[t.Req] = c.replay(ctx, reqs[t.Req], t.KeyRecord)
	}
	if len(posted) > 0 {
		c.transactions.Add(1)
		c.postings.Add(int64(len(posted)))
	}
	for t, seq := range upTo {
		c.committed(t, seq)
	}
	return outs, nil
}

// replay answers r from the stored record of its key: the first result
// when r is the same request, else ALREADY_EXISTS.
func (c *committer) replay(ctx context.Context, r *request, rec store.KeyRecord) outcome {
	if !bytes.Equal(rec.RequestHash, r.hash) {
		return outcome{err: keyReused(r.key)}
	}
	rows, err := c.st.Entries(ctx, r.tenantID, rec.EntryIDs)
	if err != nil {
		return outcome{err: fmt.Errorf("%w: reading the entries of idempotency key %q: %w", ErrUnavailable, r.key, err)}
	}
	res := resultOf(entriesOf(rows))
	res.Replayed = true
	return outcome{res: res}
}

func entriesOf(rows []store.Entry) []Entry {
	es := make([]Entry, len(rows))
	for i, r := range rows {
		es[i] = entryOf(r)
	}
	return es
}

func entryOf(r store.Entry) Entry {
	return Entry{
		ID: r.EntryID, StreamSeq: r.StreamSeq, BalanceID: r.BalanceID, CustomerID: r.CustomerID,
		Currency: r.Currency, Scale: r.Scale, WebsiteID: r.WebsiteID, Kind: Kind(r.Kind), Action: r.Action,
		Delta: r.Delta, BalanceAfter: r.BalanceAfter, IdempotencyKey: r.IdempotencyKey, Comment: r.Comment,
		NotifyCustomer: r.NotifyCustomer, PostTime: r.PostTime, Continues: r.Continues,
	}
}

func (c *committer) stats() Stats {
	return Stats{
		Transactions: c.transactions.Load(), Postings: c.postings.Load(),
		Splits: c.splits.Load(), Retries: c.retries.Load(),
	}
}
