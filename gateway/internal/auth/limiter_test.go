package auth

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	const refill = 6 * time.Second
	type step struct {
		advance     time.Duration
		fails       int
		wantBlocked bool
		wantRetry   time.Duration
	}
	tests := []struct {
		name  string
		burst int
		steps []step
	}{
		{
			name: "under the burst", burst: 3,
			steps: []step{{fails: 2, wantBlocked: false}},
		},
		{
			name: "burst exhausted", burst: 3,
			steps: []step{{fails: 3, wantBlocked: true, wantRetry: refill}},
		},
		{
			name: "retry shrinks with time", burst: 3,
			steps: []step{{fails: 3, wantBlocked: true, wantRetry: refill}, {advance: 2 * time.Second, wantBlocked: true, wantRetry: 4 * time.Second}},
		},
		{
			name: "one token back after one period", burst: 3,
			steps: []step{{fails: 3, wantBlocked: true}, {advance: refill, wantBlocked: false}, {fails: 1, wantBlocked: true, wantRetry: refill}},
		},
		{
			name: "partial periods are not lost", burst: 2,
			steps: []step{
				{fails: 2, wantBlocked: true, wantRetry: refill},
				{advance: 4 * time.Second, wantBlocked: true, wantRetry: 2 * time.Second},
				{advance: 2 * time.Second, wantBlocked: false},
			},
		},
		{
			name: "full refill after burst periods", burst: 3,
			steps: []step{{fails: 3, wantBlocked: true}, {advance: 3 * refill, fails: 2, wantBlocked: false}, {fails: 1, wantBlocked: true}},
		},
		{
			name: "refill caps at the burst", burst: 2,
			steps: []step{{fails: 2, wantBlocked: true}, {advance: 100 * refill, fails: 2, wantBlocked: true, wantRetry: refill}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			l := NewLimiter(tt.burst, refill, clock.Now)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				for range s.fails {
					l.Fail("192.0.2.1")
				}
				retry, blocked := l.Blocked("192.0.2.1")
				if blocked != s.wantBlocked {
					t.Fatalf("step %d: blocked = %v, want %v", i, blocked, s.wantBlocked)
				}
				if blocked && s.wantRetry != 0 && retry != s.wantRetry {
					t.Fatalf("step %d: retry after %v, want %v", i, retry, s.wantRetry)
				}
				if _, other := l.Blocked("192.0.2.2"); other {
					t.Fatalf("step %d: another client is blocked", i)
				}
			}
		})
	}
}

func TestLimiterForgetsFullBuckets(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := NewLimiter(2, time.Second, clock.Now)
	for i := range 50 {
		l.Fail(fmt.Sprintf("198.51.100.%d", i))
	}
	if got := l.Len(); got != 50 {
		t.Fatalf("tracked %d clients, want 50", got)
	}
	clock.Advance(2 * time.Second)
	l.Fail("203.0.113.1") // any call may sweep
	if got := l.Len(); got != 1 {
		t.Fatalf("after refill tracked %d clients, want 1", got)
	}
}

func TestLimiterBoundsClients(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := NewLimiter(5, time.Hour, clock.Now)
	l.max = 10
	for i := range 100 {
		l.Fail(fmt.Sprintf("198.51.100.%d", i))
		if got := l.Len(); got > l.max {
			t.Fatalf("tracked %d clients, more than %d", got, l.max)
		}
	}
}

func TestClientKeyIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := ClientKey(r); got != "192.0.2.7" {
		t.Fatalf("ClientKey = %q, want 192.0.2.7", got)
	}
	r.RemoteAddr = "[2001:db8::1]:443"
	if got := ClientKey(r); got != "2001:db8::1" {
		t.Fatalf("ClientKey = %q, want 2001:db8::1", got)
	}
}

func TestClientKeyBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client: header ignored", "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"through the ingress", "10.1.2.3:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client cannot choose its key through the ingress", "10.1.2.3:443", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted hops", "10.1.2.3:443", []string{"203.0.113.9, 192.0.2.1"}, "203.0.113.9"},
		{"header split over lines", "10.1.2.3:443", []string{"203.0.113.9", "10.9.9.9"}, "203.0.113.9"},
		{"no header", "10.1.2.3:443", nil, "10.1.2.3"},
		{"malformed hop", "10.1.2.3:443", []string{"203.0.113.9, nonsense"}, "10.1.2.3"},
		{"IPv4-mapped IPv6 proxy", "[::ffff:10.1.2.3]:443", []string{"2001:db8::5"}, "2001:db8::5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientKeyBehind(r, trusted); got != tc.want {
				t.Errorf("key = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, not-an-ip"); err == nil {
		t.Error("a malformed proxy list was accepted")
	}
}
