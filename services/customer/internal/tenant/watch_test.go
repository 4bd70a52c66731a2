package tenant_test

import (
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
)

// A gateway may reuse a session's answer only until the session's idle
// time is next due to be restarted (a sixtieth of the TTL), so cached uses
// keep it alive; never past its expiry; and not at all when the service
// says not to cache.
func TestSessionCacheFor(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t)
	id := f.login(t, f.aLogin)
	every := sessionTTL / 60
	cacheFor := func() time.Duration {
		t.Helper()
		p, err := f.svc.Authenticate(t.Context(), tenant.Credentials{MagentoSession: id})
		if err != nil {
			t.Fatal(err)
		}
		return p.CacheFor
	}
	if got := cacheFor(); got > every || got < every-10*time.Second {
		t.Errorf("fresh session: cache_for %v; want just under %v", got, every)
	}
	f.idle(t, every-20*time.Second)
	if got := cacheFor(); got > 20*time.Second || got <= 0 {
		t.Errorf("session idle for all but 20s of the touch interval: cache_for %v; want at most 20s", got)
	}
	// Past the touch interval, the use restarts the idle time: a whole
	// interval again.
	f.idle(t, every+time.Second)
	if got := cacheFor(); got > every || got < every-10*time.Second {
		t.Errorf("touched session: cache_for %v; want just under %v", got, every)
	}
	f.svc.CacheCredentials(0, time.Second)
	if got := cacheFor(); got != 0 {
		t.Errorf("caching off: cache_for %v; want 0", got)
	}
	p, err := f.svc.Authenticate(t.Context(), tenant.Credentials{Magento: &f.aLogin})
	if err != nil || p.CacheFor != 0 {
		t.Errorf("caching off: credential cache_for %v (%v); want 0", p.CacheFor, err)
	}
}
