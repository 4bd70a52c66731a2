package ledger

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// hub fans wake-ups out to the watchers of each tenant. A wake-up carries
// no entries: it tells a watcher that the stream reaches some position, so
// that it reads again if it has not read that far. Wake-ups coalesce, and
// one that is lost costs at most a few poll intervals.
type hub struct {
	// listening is true while this process's LISTEN connection is up; then
	// watchers are woken by notifications and poll only rarely.
	listening atomic.Bool

	mu       sync.Mutex
	watchers map[string]map[*mailbox]struct{}
	done     chan struct{} // closed when the service shuts down
	stopOnce sync.Once
}

// mailbox is where one Watch call is woken.
type mailbox struct {
	woken chan struct{} // buffered: a pending wake-up
	upTo  atomic.Int64  // the highest stream position announced
}

// announce records that the stream reaches upTo and wakes the watcher.
func (w *mailbox) announce(upTo int64) {
	for {
		old := w.upTo.Load()
		if upTo <= old || w.upTo.CompareAndSwap(old, upTo) {
			break
		}
	}
	select {
	case w.woken <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func newHub() *hub {
	return &hub{watchers: map[string]map[*mailbox]struct{}{}, done: make(chan struct{})}
}

func (h *hub) subscribe(tenantID string) (*mailbox, func()) {
	w := &mailbox{woken: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.watchers[tenantID] == nil {
		h.watchers[tenantID] = map[*mailbox]struct{}{}
	}
	h.watchers[tenantID][w] = struct{}{}
	h.mu.Unlock()
	return w, func() {
		h.mu.Lock()
		delete(h.watchers[tenantID], w)
		if len(h.watchers[tenantID]) == 0 {
			delete(h.watchers, tenantID)
		}
		h.mu.Unlock()
	}
}

// wake tells the tenant's watchers that its stream reaches upTo
// (math.MaxInt64 when unknown: every watcher reads).
func (h *hub) wake(tenantID string, upTo int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers[tenantID] {
		w.announce(upTo)
	}
}

// wakeAll tells every watcher to read again: notifications may have been
// missed while the listener was not connected.
func (h *hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.watchers {
		for w := range ws {
			w.announce(math.MaxInt64)
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
	w, unsubscribe := s.hub.subscribe(tenantID)
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
			case <-w.woken:
				// This process's own commits announce themselves twice
				// (once directly, once by NOTIFY): read only when the
				// stream reaches beyond what was sent.
				if w.upTo.Load() > afterSeq {
					break wait
				}
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

// listen keeps one LISTEN connection for the process and wakes the
// watchers of each tenant notified; while it is down, watchers poll.
func (s *Service) listen(ctx context.Context) {
	s.st.Listen(ctx, s.log,
		func() {
			s.hub.listening.Store(true)
			s.hub.wakeAll()
		},
		func() { s.hub.listening.Store(false) },
		s.hub.wake)
}

// StreamHead is where a tenant's stream ends, seen from a position.
type StreamHead struct {
	// LastSeq is the position of the last committed entry; 0 when none.
	LastSeq int64
	// LastEntryID is that entry's id; 0 when none.
	LastEntryID int64
	// Behind counts the committed entries after the position asked about.
	Behind int64
	// FirstAfter is the post time of the first of them; zero when none.
	FirstAfter time.Time
}

// StreamHead tells how far stream position afterSeq is behind the end of
// the tenant's stream, as committed now.
func (s *Service) StreamHead(ctx context.Context, tenantID string, afterSeq int64) (StreamHead, error) {
	if afterSeq < 0 {
		return StreamHead{}, invalid("cursor", "must not be negative")
	}
	h, err := s.st.StreamHead(ctx, tenantID, afterSeq)
	if err != nil {
		return StreamHead{}, err
	}
	return StreamHead{LastSeq: h.LastSeq, LastEntryID: h.LastEntryID, Behind: max(h.LastSeq-afterSeq, 0), FirstAfter: h.FirstAfter}, nil
}
