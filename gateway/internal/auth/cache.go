package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// Cache holds verified credentials, so that most requests authenticate
// without a call to the customer service. It is trusted only while its
// change stream (Watch) is up and has confirmed, less than trust_for ago
// by the sending of an ack, that no change is missing from it; otherwise
// every request asks the customer service as if there were no cache. The
// customer service's side of the bargain (revokes wait for the acks) is
// argued in services/customer/internal/tenant/watch.go.
//
// Entries are keyed by a SHA-256 of the presented credential, never the
// secret itself, and hold only the principal. Failed authentications are
// never cached.
type Cache struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	// byCredential finds the entries a revocation makes stale.
	byCredential map[string]map[cacheKey]struct{}
	// epoch counts the stream's losses and resyncs; applied is the seq
	// through which every change has been applied. An answer fetched under
	// one (epoch, applied) is stored only if neither moved meanwhile: a
	// change applied during the call may be the one it predates.
	epoch   uint64
	applied int64
	synced  bool
	// trustedUntil is when the last confirmed ack's trust ends.
	trustedUntil time.Time

	hits, misses prometheus.Counter
	connected    prometheus.Gauge
}

// cacheKey is a SHA-256 of a presented credential; session keys are the
// SHA-256 of the session id, as the customer service's change log names
// ended sessions.
type cacheKey struct {
	session bool
	sum     [sha256.Size]byte
}

type cacheEntry struct {
	tenantID, credentialID string
	expires                time.Time
}

// stamp is the cache's state when a call to the customer service started.
type stamp struct {
	epoch   uint64
	applied int64
	synced  bool
}

// NewCache returns a cache of at most size entries (> 0), registering its
// metrics with reg when set.
func NewCache(size int, reg prometheus.Registerer) (*Cache, error) {
	c := &Cache{
		max: size, now: time.Now,
		entries: map[cacheKey]cacheEntry{}, byCredential: map[string]map[cacheKey]struct{}{},
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "abacus_gateway_auth_cache_hits_total", Help: "Authentications answered from the credential cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "abacus_gateway_auth_cache_misses_total", Help: "Authentications the customer service answered: not cached, expired, or the cache not trusted.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "abacus_gateway_credential_stream_connected", Help: "1 while the credential change stream from the customer service is up and synced.",
		}),
	}
	if reg != nil {
		for _, m := range []prometheus.Collector{c.hits, c.misses, c.connected} {
			if err := reg.Register(m); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// keyOf is the cache key of a presented credential.
func keyOf(req *customerv1.AuthenticateRequest) (cacheKey, bool) {
	if s := req.GetMagentoSession(); s != nil {
		return cacheKey{session: true, sum: sha256.Sum256([]byte(s.GetSessionId()))}, true
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return cacheKey{}, false
	}
	return cacheKey{sum: sha256.Sum256(raw)}, true
}

// trusted reports whether the cache may answer now; c.mu is held.
func (c *Cache) trusted() bool { return c.synced && c.now().Before(c.trustedUntil) }

// lookup returns the tenant of a cached credential, when the cache is
// trusted and holds it unexpired, and the stamp to store a fetched answer
// under otherwise.
func (c *Cache) lookup(k cacheKey) (tenantID string, hit bool, st stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok && c.trusted() && c.now().Before(e.expires) {
		c.hits.Inc()
		return e.tenantID, true, stamp{}
	}
	c.misses.Inc()
	return "", false, stamp{epoch: c.epoch, applied: c.applied, synced: c.synced}
}

// store caches an answer fetched under st for ttl, unless the stream was
// not synced when the call started or a change was applied since.
func (c *Cache) store(st stamp, k cacheKey, resp *customerv1.AuthenticateResponse) {
	ttl := resp.GetCacheFor().AsDuration()
	if ttl <= 0 || resp.GetTenantId() == "" || resp.GetCredentialId() == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !st.synced || !c.synced || st.epoch != c.epoch || st.applied != c.applied {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for old := range c.entries { // any one: map order is random
			c.evict(old)
			break
		}
	}
	c.entries[k] = cacheEntry{tenantID: resp.GetTenantId(), credentialID: resp.GetCredentialId(), expires: c.now().Add(ttl)}
	ks := c.byCredential[resp.GetCredentialId()]
	if ks == nil {
		ks = map[cacheKey]struct{}{}
		c.byCredential[resp.GetCredentialId()] = ks
	}
	ks[k] = struct{}{}
}

// evict drops one entry; c.mu is held.
func (c *Cache) evict(k cacheKey) {
	e, ok := c.entries[k]
	if !ok {
		return
	}
	delete(c.entries, k)
	if ks := c.byCredential[e.credentialID]; ks != nil {
		delete(ks, k)
		if len(ks) == 0 {
			delete(c.byCredential, e.credentialID)
		}
	}
}

// evictSession drops a Magento session this gateway ended.
func (c *Cache) evictSession(sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(cacheKey{session: true, sum: sha256.Sum256([]byte(sessionID))})
}

// clear empties the cache and starts a new epoch; c.mu is held.
func (c *Cache) clear() {
	clear(c.entries)
	clear(c.byCredential)
	c.epoch++
	c.synced = false
	c.trustedUntil = time.Time{}
}

// lost is called when the stream fails: nothing cached can be trusted to
// be current any more.
func (c *Cache) lost() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	c.connected.Set(0)
}

// sync starts a stream's life at seq with an empty cache.
func (c *Cache) sync(seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	c.applied, c.synced = seq, true
	c.connected.Set(1)
}

// apply evicts what changes make stale and returns the seq applied through.
func (c *Cache) apply(changes []*customerv1.CredentialChange) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		if ch.GetSeq() <= c.applied {
			continue
		}
		if id := ch.GetCredentialId(); id != "" {
			for k := range c.byCredential[id] {
				c.evict(k)
			}
		}
		if h := ch.GetSessionHash(); len(h) == sha256.Size {
			k := cacheKey{session: true}
			copy(k.sum[:], h)
			c.evict(k)
		}
		c.applied = ch.GetSeq()
	}
	return c.applied
}

// confirm extends the trust to sentAt+trust when the cache has applied
// every change through latest; a reply naming a newer change confirms
// nothing until it is applied and acked.
func (c *Cache) confirm(sentAt time.Time, latest int64, trust time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.synced && c.applied >= latest {
		if until := sentAt.Add(trust); until.After(c.trustedUntil) {
			c.trustedUntil = until
		}
	}
}
