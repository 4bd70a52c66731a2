package ledger

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// hub fans wake-ups out to the watchers of each tenant. A wake-up carries
// no data: it only tells a watcher to read the stream again, so wake-ups
// coalesce and one that is lost costs at most a few poll intervals.
type hub struct {
	// listening is true while this process's LISTEN connection is up; then
	// watchers are woken by notifications and poll only rarely.
	listening atomic.Bool

	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{}
	done     chan struct{} // closed when the service shuts down
	stopOnce sync.Once
}

func newHub() *hub {
	return &hub{watchers: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
}

func (h *hub) subscribe(tenantID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.watchers[tenantID] == nil {
		h.watchers[tenantID] = map[chan struct{}]struct{}{}
	}
	h.watchers[tenantID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.watchers[tenantID], ch)
		if len(h.watchers[tenantID]) == 0 {
			delete(h.watchers, tenantID)
		}
		h.mu.Unlock()
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// wake tells the tenants' watchers to read again.
func (h *hub) wake(tenantIDs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tenantIDs {
		for ch := range h.watchers[t] {
			poke(ch)
		}
	}
}

// wakeAll tells every watcher to read again: notifications may have been
// missed while the listener was not connected.
func (h *hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.watchers {
		for ch := range ws {
			poke(ch)
		}
	}
}

func (h *hub) shutdown() { h.stopOnce.Do(func() { close(h.done) }) }

// watchPage is how many entries a watcher reads per query.
const watchPage = 500

// Watch sends the tenant's entries after stream position afterSeq to send,
// in stream order, then follows new ones as they commit, until ctx ends,
// send fails, or the service shuts down (ErrUnavailable: resume elsewhere
// from the last position sent).
//
// Every posting transaction takes its tenant's stream counter lock after
// its balance locks and holds it to COMMIT, so stream positions become
// visible in order: reading "position > last sent" never skips an entry
// that commits later, and never repeats one.
func (s *Service) Watch(ctx context.Context, tenantID string, afterSeq int64, send func(Entry) error) error {
	if afterSeq < 0 {
		return invalid("cursor", "must not be negative")
	}
	// Subscribe before the first read, so that a commit between that read
	// and the wait is not missed.
	woken, unsubscribe := s.hub.subscribe(tenantID)
	defer unsubscribe()
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		lastRead := time.Now()
		rows, err := s.st.ReadStream(ctx, tenantID, afterSeq, watchPage)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		for _, r := range rows {
			if err := send(entryOf(r)); err != nil {
				return err
			}
			afterSeq = r.StreamSeq
		}
		if len(rows) == watchPage {
			continue // more to replay
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.hub.done:
				return fmt.Errorf("%w: the ledger is shutting down; resume from the last cursor", ErrUnavailable)
			case <-woken:
				break wait
			case <-poll.C:
				// While notifications flow, a poll only covers one lost
				// after a crash between COMMIT and NOTIFY: every watcher
				// polling each interval would cost a query per tenant per
				// interval (history follows every tenant).
				if !s.hub.listening.Load() || time.Since(lastRead) >= rarePolls*s.cfg.PollInterval {
					break wait
				}
			}
		}
	}
}

// rarePolls is how many poll intervals a watcher waits between reads while
// the process's listener is up.
const rarePolls = 30

// listen keeps one LISTEN connection for the process, reconnecting with
// backoff, and wakes the watchers of each tenant notified.
func (s *Service) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		connected := false
		err := s.st.Listen(ctx, func() {
			connected = true
			s.hub.listening.Store(true)
			s.hub.wakeAll()
		}, func(tenantID string) { s.hub.wake(tenantID) })
		s.hub.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		s.log.WarnContext(ctx, "change-stream listener lost; watchers fall back to polling until it reconnects",
			"error", err.Error(), "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
