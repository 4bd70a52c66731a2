// Package projection feeds the history from the ledger's change stream: one
// follower per tenant, tenants discovered by polling the customer service.
//
// Exactly once: a follower writes each batch of rows and the stream cursor
// after the batch's last entry in one transaction, and resumes from the
// stored cursor after any failure, so a crash, a restart or a ledger outage
// never loses or doubles a row.
//
// One projector per tenant, among any number of replicas:
//
//   - correctness comes from a compare-and-set on the stored cursor: a batch
//     commits only if the cursor is still the one it started from, so two
//     writers can never both apply the entries after the same cursor;
//   - efficiency comes from a per-tenant advisory lock, all held by one
//     database session per replica (not one connection per tenant, which
//     would not scale with tenants): only the replica holding a tenant's
//     lock follows it. If that session breaks, the replica stops all its
//     followers at its next check; until then, and until another replica
//     takes over, the compare-and-set keeps the two apart.
package projection

import (
	"context"
	"log/slog"
	"sync"
	"time"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
)

// Config tunes the projector.
type Config struct {
	// TenantPoll is how often tenants are listed and locks re-tried.
	TenantPoll time.Duration
	// BatchSize bounds the entries one transaction applies.
	BatchSize int
	// Linger is how long a batch waits for more entries after its first.
	Linger time.Duration
	// Buffer bounds the entries received ahead of the batch being applied.
	Buffer int
	// MinBackoff and MaxBackoff bound the wait between reconnections.
	MinBackoff, MaxBackoff time.Duration
	// CommitTimeout bounds one batch's transaction.
	CommitTimeout time.Duration
	// HeadPoll is how often a follower reads the ledger's stream head, to
	// know its true lag.
	HeadPoll time.Duration
}

func (c *Config) defaults() {
	if c.TenantPoll <= 0 {
		c.TenantPoll = 3 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.Linger <= 0 {
		c.Linger = 20 * time.Millisecond
	}
	if c.Buffer <= 0 {
		c.Buffer = 2 * c.BatchSize
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		// About a second: the stream resumes within that of the ledger's
		// return, however long it was away.
		c.MaxBackoff = max(time.Second, c.MinBackoff)
	}
	if c.HeadPoll <= 0 {
		c.HeadPoll = time.Second
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 15 * time.Second
	}
}

// TenantLister lists every tenant.
type TenantLister interface {
	ListTenantIDs(ctx context.Context) ([]string, error)
}

// Projector runs the followers of the tenants this replica projects.
type Projector struct {
	store   *store.Store
	ledger  ledgerv1.LedgerServiceClient
	tenants TenantLister
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	kick    chan string

	heads headReads // reads of the ledger's head, shared by concurrent history reads

	mu        sync.Mutex
	followers map[string]*running
	tried     map[string]time.Time // last lock attempt of a tenant not followed
}

type running struct {
	f      *follower
	cancel context.CancelFunc
	done   chan struct{}
}

var _ history.LagSource = (*Projector)(nil)

// New returns a projector; Run starts it. Its metrics go to reg when not nil.
func New(st *store.Store, ledger ledgerv1.LedgerServiceClient, tenants TenantLister, log *slog.Logger, cfg Config) *Projector {
	cfg.defaults()
	p := &Projector{
		store: st, ledger: ledger, tenants: tenants, log: log, cfg: cfg,
		kick: make(chan string, 64), followers: map[string]*running{}, tried: map[string]time.Time{},
	}
	p.metrics = newMetrics(p)
	return p
}

// Run projects until ctx ends, then stops every follower (a batch under way
// commits first) and releases the tenants' locks.
func (p *Projector) Run(ctx context.Context) {
	var sess *store.Session
	defer func() {
		p.stopAll()
		if sess != nil {
			_ = sess.Close(context.Background())
		}
		p.log.Info("projector stopped")
	}()
	tick := time.NewTicker(p.cfg.TenantPoll)
	defer tick.Stop()
	listFailures := 0
	for discover := true; ; {
		if discover {
			sess = p.checkSession(ctx, sess)
		}
		if discover && sess != nil {
			ids, err := p.listTenants(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				listFailures++
				if listFailures == 1 {
					p.log.Warn("cannot list tenants; retrying", "error", err.Error())
				}
			case err == nil:
				listFailures = 0
				for _, id := range ids {
					p.tryFollow(ctx, sess, id, false)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			discover = true
		case id := <-p.kick:
			discover = false
			if sess != nil {
				p.tryFollow(ctx, sess, id, true)
			}
		}
	}
}

func (p *Projector) listTenants(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.tenants.ListTenantIDs(ctx)
}

// checkSession returns a live lock session: sess when it answers, otherwise
// a new one, after stopping every follower, whose locks went with the old
// session. It returns nil when the database is unreachable.
func (p *Projector) checkSession(ctx context.Context, sess *store.Session) *store.Session {
	if sess != nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := sess.Ping(pctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return sess
		}
		p.log.Warn("projector lock session lost; stopping followers", "error", err.Error())
		p.stopAll()
		_ = sess.Close(context.Background())
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sess, err := p.store.OpenSession(octx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("cannot open projector lock session", "error", err.Error())
		}
		return nil
	}
	return sess
}

// tryFollow starts a follower for the tenant when this replica can take its
// lock. Requests from readers (urgent) are limited to one attempt a second
// per tenant.
func (p *Projector) tryFollow(ctx context.Context, sess *store.Session, tenantID string, urgent bool) {
	p.mu.Lock()
	_, following := p.followers[tenantID]
	last := p.tried[tenantID]
	p.mu.Unlock()
	if following || (urgent && time.Since(last) < time.Second) {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	locked, err := sess.TryLockTenant(lctx, tenantID)
	cancel()
	if err != nil || !locked {
		p.mu.Lock()
		p.tried[tenantID] = time.Now()
		p.mu.Unlock()
		return
	}
	fctx, stop := context.WithCancel(ctx)
	r := &running{cancel: stop, done: make(chan struct{}),
		f: &follower{p: p, tenant: tenantID, log: p.log.With("tenant", tenantID)}}
	p.mu.Lock()
	p.followers[tenantID] = r
	delete(p.tried, tenantID)
	p.mu.Unlock()
	p.log.Info("projecting tenant", "tenant", tenantID)
	go func() {
		defer close(r.done)
		r.f.run(fctx)
	}()
}

// stopAll stops every follower and waits for them.
func (p *Projector) stopAll() {
	p.mu.Lock()
	rs := p.followers
	p.followers = map[string]*running{}
	p.mu.Unlock()
	for _, r := range rs {
		r.cancel()
	}
	for _, r := range rs {
		<-r.done
	}
}

// Follow implements history.LagSource: a reader waits on a tenant that may
// not be followed yet (created since the last discovery).
func (p *Projector) Follow(tenantID string) {
	p.mu.Lock()
	_, ok := p.followers[tenantID]
	p.mu.Unlock()
	if ok {
		return
	}
	select {
	case p.kick <- tenantID:
	default: // the projector is busy; the next discovery finds the tenant
	}
}

// snapshot returns the followers, for the metrics.
func (p *Projector) snapshot() map[string]*follower {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*follower, len(p.followers))
	for id, r := range p.followers {
		out[id] = r.f
	}
	return out
}
