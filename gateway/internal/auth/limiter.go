package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limiter slows down credential guessing: each failed authentication takes a
// token from its client's bucket of burst tokens, refilled one per refill;
// while a bucket is empty the client is refused before its credentials are
// even looked at. Successes cost nothing, so a well-behaved client that
// mistypes once is never held up.
//
// Clients are keyed by the IP of the connection. X-Forwarded-For counts only
// when the connection comes from a configured trusted proxy (an ingress):
// anyone can send the header, so trusting it from anywhere would let an
// attacker pick a fresh key per request.
type Limiter struct {
	burst  int
	refill time.Duration
	now    func() time.Time
	max    int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens int
	// last is when tokens was last brought up to date; refills are counted
	// from it in whole periods so no partial period is ever lost.
	last time.Time
}

// DefaultMaxClients bounds the number of clients a Limiter tracks at once.
const DefaultMaxClients = 100_000

// NewLimiter returns a limiter of burst failures refilled one per refill.
// now is the clock (time.Now in production; tests pass a fake one).
func NewLimiter(burst int, refill time.Duration, now func() time.Time) *Limiter {
	if burst < 1 {
		burst = 1
	}
	if refill <= 0 {
		refill = time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{burst: burst, refill: refill, now: now, max: DefaultMaxClients, buckets: map[string]*bucket{}}
}

// ClientKey is the limiter key of a request: the IP of its connection.
func ClientKey(r *http.Request) string {
	return ClientKeyBehind(r, nil)
}

// ClientKeyBehind is the limiter key of a request that may have come
// through trusted proxies: when the connection is from one of them, the
// client is the right-most address of X-Forwarded-For that is not itself a
// trusted proxy. Behind an ingress every request would otherwise share the
// ingress's IP, and one guesser would lock every client out.
func ClientKeyBehind(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(addr, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing to its left
		}
		if !isTrusted(hop.Unmap(), trusted) {
			return hop.Unmap().String()
		}
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or addresses.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Blocked reports whether key has no failures left, and if so how long until
// it has one again.
func (l *Limiter) Blocked(key string) (retryAfter time.Duration, blocked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		return 0, false
	}
	l.refillBucket(b, now)
	if b.tokens > 0 {
		return 0, false
	}
	return b.last.Add(l.refill).Sub(now), true
}

// Fail records one failed authentication by key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evictOne()
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refillBucket(b, now)
	if b.tokens == l.burst {
		// A full bucket starts its refill period at its first failure.
		b.last = now
	}
	if b.tokens > 0 {
		b.tokens--
	}
}

// Len is the number of clients tracked; tests use it to check eviction.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter) refillBucket(b *bucket, now time.Time) {
	if b.tokens >= l.burst {
		return
	}
	periods := int(now.Sub(b.last) / l.refill)
	if periods <= 0 {
		return
	}
	if periods >= l.burst-b.tokens {
		b.tokens = l.burst
		b.last = now
		return
	}
	b.tokens += periods
	b.last = b.last.Add(time.Duration(periods) * l.refill)
}

// sweep drops buckets that have refilled completely: a full bucket behaves
// exactly like no bucket, so forgetting it loses nothing. It runs at most
// once per refill period, keeping the cost of a request O(1) on average.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.refill {
		return
	}
	l.lastSweep = now
	for key, b := range l.buckets {
		l.refillBucket(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, key)
		}
	}
}

// evictOne makes room when more than max clients are failing at once (a
// distributed attack). Scanning the whole map would make every new attacker
// IP cost O(max) under the lock, so it samples a few buckets (map order is
// random) and forgets the one with the most tokens left, the one closest to
// being forgotten anyway.
func (l *Limiter) evictOne() {
	const samples = 8
	var victim string
	most, seen := -1, 0
	for key, b := range l.buckets {
		if b.tokens > most {
			victim, most = key, b.tokens
		}
		if seen++; seen == samples {
			break
		}
	}
	delete(l.buckets, victim)
}
