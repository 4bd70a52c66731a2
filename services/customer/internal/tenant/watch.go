package tenant

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
)

// Gateways cache verified credentials, and revocation stays immediate: a
// request that reaches any gateway after RevokeCredential (or
// EndMagentoSession) has returned is refused. Why it holds:
//
//   - A gateway (a watcher) trusts its cache only while its change stream is
//     up and it holds a reply to an ack it sent less than trust ago, a reply
//     naming no change it has not applied (see store.RecordAck).
//   - Acks and changes are ordered by a table lock (store/changes.go). An
//     ack recorded after a change commits names that change as the latest,
//     so the watcher trusts on its strength only once it has applied it. A
//     watcher can therefore trust a cache still lacking a change only on
//     the strength of an ack sent before the change committed, and that
//     trust ends within trust of the commit.
//   - So a revoke may return once every watcher has acked its change, or
//     once trust has passed since its commit. It waits for the first,
//     within watchLive = 2×trust: a watcher whose last recorded ack is
//     older than watchLive (silent, or gone) is not waited for — its last
//     ack before the commit was sent before its row's ack_time, so its
//     trust has ended — and after watchLive a revoke returns whatever the
//     watchers did, which the second bullet makes safe. The factor two
//     covers clocks that run at slightly different rates; no two clocks
//     are ever compared.
//
// A live gateway acks a change within a few milliseconds (it is nudged as
// the change commits), so revokes wait that long, not trust.

// Credential caching defaults: how long a gateway may reuse an
// Authenticate answer, and how long it may trust its cache on one ack.
const (
	DefaultCacheFor = 5 * time.Minute
	DefaultTrust    = time.Second
)

// changesBatch bounds the changes one ack's reply carries.
const changesBatch = 500

// watchPoll is how often a revoke looks again at the watchers' acks.
const watchPoll = 2 * time.Millisecond

// CacheCredentials sets how long gateways may reuse an Authenticate answer
// (0: they must not cache) and how long they may trust their cache on one
// ack (> 0). Call it before serving.
func (s *Service) CacheCredentials(cacheFor, trust time.Duration) {
	s.cacheFor, s.trust = cacheFor, trust
}

// Trust is how long a watcher may trust its cache after sending an ack.
func (s *Service) Trust() time.Duration { return s.trust }

// watchLive is how recent a watcher's last ack must be for a revoke to
// wait for it, and the longest a revoke waits.
func (s *Service) watchLive() time.Duration { return 2 * s.trust }

// RecordAck records a watcher's ack (see store.RecordAck).
func (s *Service) RecordAck(ctx context.Context, watcherID string, applied int64, first bool) (store.Acked, error) {
	if _, err := uuid.Parse(watcherID); err != nil {
		return store.Acked{}, fmt.Errorf("%w: watcher_id must be a UUID", ErrInvalid)
	}
	if applied < 0 {
		return store.Acked{}, fmt.Errorf("%w: applied_seq must not be negative", ErrInvalid)
	}
	return s.store.RecordAck(ctx, watcherID, applied, first, changesBatch)
}

// awaitWatchers returns once every live watcher has acked seq, or watchLive
// after it was called (after the change committed). A failure to read the
// acks only makes it wait the whole time: the change has committed, and
// the caller must not be told it failed.
func (s *Service) awaitWatchers(ctx context.Context, seq int64) error {
	if seq == 0 {
		return nil
	}
	deadline := time.Now().Add(s.watchLive())
	for {
		n, err := s.store.LaggingWatchers(ctx, seq, s.watchLive())
		if err == nil && n == 0 {
			return nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(min(wait, watchPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Watchers fans "a change was made" out to the change streams this
// replica serves, so that each nudges its watcher to ack at once.
type Watchers struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	closed bool
}

// Subscribe returns a channel that receives (coalesced) nudges and is
// closed by Close, and the function that ends the subscription.
func (w *Watchers) Subscribe() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		close(c)
		return c, func() {}
	}
	if w.subs == nil {
		w.subs = map[chan struct{}]struct{}{}
	}
	w.subs[c] = struct{}{}
	return c, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, c)
	}
}

// Close closes every subscription's channel, now and to come: the
// replica is shutting down, and streams, which never end by themselves,
// must end for its graceful stop to finish. Their gateways reconnect to
// another replica.
func (w *Watchers) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for c := range w.subs {
		close(c)
		delete(w.subs, c)
	}
}

// Nudge tells every subscriber a change may have been made. It never
// blocks: a subscriber with a nudge pending needs no second one.
func (w *Watchers) Nudge() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Watchers is the fan-out of this replica's change streams; the LISTEN on
// store.ChangesChannel nudges it.
func (s *Service) Watchers() *Watchers { return &s.watchers }

// changesKept is how long the change log keeps a change. A stream acks
// every few hundred milliseconds, so no watcher needs one that old.
const changesKept = time.Hour

// pruneCredentialChanges is the janitor's second job.
func (s *Service) pruneCredentialChanges(ctx context.Context, log *slog.Logger) {
	n, err := s.store.PruneCredentialChanges(ctx, changesKept)
	switch {
	case err != nil && ctx.Err() == nil:
		log.ErrorContext(ctx, "prune credential changes", "error", err)
	case n > 0:
		log.InfoContext(ctx, "old credential changes deleted", "deleted", n)
	}
}
