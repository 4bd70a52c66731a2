package server

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// spoof is what a hostile client adds to try to pick another tenant.
var spoof = map[string]string{
	"X-Abacus-Tenant":               "t-evil",
	"Grpc-Metadata-X-Abacus-Tenant": "t-evil",
	"Grpc-Metadata-Authorization":   "Bearer t-evil",
	"X-Forwarded-For":               "t-evil",
}

// TestTenantComesFromAuthentication checks, for every API, that the service
// sees the tenant Authenticate returned and nothing the client sent.
func TestTenantComesFromAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		target     string
		header     map[string]string
		body       string
		rpc        string
		wantTenant string
	}{
		{"native", http.MethodGet, "/v1/customers/42", basic("mage", "mage-key"), "", "GetCustomer", "t-magento"},
		{"exigo", http.MethodGet, "/3.0/customers/balances?customerID=7", basic("jdoe@acme", "exigo-pw"), "", "GetBalances", "t-exigo"},
		{"igsend", http.MethodGet, "/services/clientbalance/?ClientID=7", basic("pub-live", "priv-live"), "", "GetBalances", "t-igsend"},
		{"manex", http.MethodGet, "/API/Customer/Get/K123456789?CustNumOrName=Acme", nil, "", "LookupCustomer", "t-manex"},
		{"magento", http.MethodGet, "/api/rest/customers/4/storecredit/history", basic("mage", "mage-key"), "", "ListHistory", "t-magento"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			header := map[string]string{"X-Request-Id": "req-" + tt.name}
			for k, v := range spoof {
				header[k] = v
			}
			for k, v := range tt.header {
				header[k] = v
			}
			w := e.serve(tt.method, tt.target, header, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, body %s", w.Code, w.Body)
			}
			if got := w.Header().Get("X-Request-Id"); got != "req-"+tt.name {
				t.Errorf("X-Request-Id = %q, want the client's", got)
			}
			calls := e.calls.to(tt.rpc)
			if len(calls) != 1 {
				t.Fatalf("%s called %d times, want 1", tt.rpc, len(calls))
			}
			md := calls[0].md
			if got := md.Get(tenancy.TenantKey); len(got) != 1 || got[0] != tt.wantTenant {
				t.Errorf("tenant metadata = %q, want [%q]", got, tt.wantTenant)
			}
			if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+testServiceToken {
				t.Errorf("authorization metadata = %q, want the service token only", got)
			}
			if got := md.Get("x-request-id"); len(got) != 1 || got[0] != "req-"+tt.name {
				t.Errorf("x-request-id metadata = %q", got)
			}
			for k, vs := range md {
				for _, v := range vs {
					if strings.Contains(v, "t-evil") {
						t.Errorf("client-supplied value reached the service: %s: %q", k, v)
					}
				}
			}
			// Authenticate itself runs without a tenant.
			for _, c := range e.calls.to("Authenticate") {
				if got := c.md.Get(tenancy.TenantKey); len(got) != 0 {
					t.Errorf("Authenticate carried tenant %q", got)
				}
			}
		})
	}
}

func TestIdempotencyKeyIsForwarded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	header := with(basic("mage", "mage-key"), "Idempotency-Key", "pay-123")
	header["X-Custom"] = "nope"
	e.serve(http.MethodPost, "/v1/customers/42/entries", header, strings.NewReader(`{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`))
	calls := e.calls.to("PostEntry")
	if len(calls) != 1 {
		t.Fatalf("PostEntry called %d times, want 1", len(calls))
	}
	md := calls[0].md
	if got := md.Get("idempotency-key"); len(got) != 1 || got[0] != "pay-123" {
		t.Errorf("idempotency-key metadata = %q, want [pay-123]", got)
	}
	if got := md.Get("x-custom"); len(got) != 0 {
		t.Errorf("x-custom was forwarded: %q", got)
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

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

// TestRepeatedFailuresAreRefused runs, per API, one failure with a burst of
// one, then the right credential: it is refused with 429 in the API's shape
// without Authenticate being called, until the refill period has passed.
func TestRepeatedFailuresAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		method          string
		wrong, right    string
		wrongH, rightH  map[string]string
		want429         string
		wantAfterRefill int
	}{
		{name: "native", method: http.MethodGet, wrong: "/v1/customers/42", right: "/v1/customers/42",
			wrongH: basic("mage", "x"), rightH: basic("mage", "mage-key"),
			want429:         `{"code":8,"message":"too many failed authentication attempts; try again later","details":[]}`,
			wantAfterRefill: http.StatusOK},
		{name: "exigo", method: http.MethodGet, wrong: "/3.0/customers/balances?customerID=7", right: "/3.0/customers/balances?customerID=7",
			wrongH: basic("jdoe@acme", "x"), rightH: basic("jdoe@acme", "exigo-pw"),
			want429:         exigoFailure(true, "Too many failed login attempts. Try again later."),
			wantAfterRefill: http.StatusOK},
		{name: "igsend", method: http.MethodGet, wrong: "/services/clientbalance/?ClientID=7", right: "/services/clientbalance/?ClientID=7",
			wrongH: basic("pub-live", "x"), rightH: basic("pub-live", "priv-live"),
			want429:         `{"coreRes":{"status":2,"Message":"Authentication failed: too many failed attempts. Try again later.","MessageID":10001},"tableRes":[]}`,
			wantAfterRefill: http.StatusOK},
		{name: "manex", method: http.MethodGet, wrong: "/API/Customer/Get/WRONGKEY00?CustNumOrName=Acme", right: "/API/Customer/Get/K123456789?CustNumOrName=Acme",
			want429:         manexEnvelope("429", "Too many failed attempts. Try again later.", false, "null"),
			wantAfterRefill: http.StatusOK},
		{name: "magento", method: http.MethodGet, wrong: "/api/rest/customers/4/storecredit/history", right: "/api/rest/customers/4/storecredit/history",
			wrongH: basic("mage", "x"), rightH: basic("mage", "mage-key"),
			want429:         `{"messages":{"error":[{"code":429,"message":"Too many failed authentication attempts. Try again later."}]}}`,
			wantAfterRefill: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			e := newEnv(t, envOptions{burst: 1, now: clock.Now})
			if w := e.serve(tt.method, tt.wrong, tt.wrongH, nil); w.Code != http.StatusUnauthorized && w.Code != http.StatusOK {
				t.Fatalf("wrong credential: status %d", w.Code)
			}
			before := len(e.calls.to("Authenticate"))
			w := e.serve(tt.method, tt.right, tt.rightH, nil)
			checkAnswer(t, w, http.StatusTooManyRequests, tt.want429, map[string]string{"Retry-After": "6"})
			if after := len(e.calls.to("Authenticate")); after != before {
				t.Errorf("Authenticate was called while the client was refused")
			}
			// A forwarded-for header does not make a new client...
			r := e.serve(tt.method, tt.right, with(tt.rightH, "X-Forwarded-For", "198.51.100.1"), nil)
			if r.Code != http.StatusTooManyRequests {
				t.Errorf("X-Forwarded-For changed the client: status %d", r.Code)
			}
			// ...but another address is another client.
			if r := e.serveFrom("198.51.100.1:4000", tt.method, tt.right, tt.rightH, nil); r.Code != tt.wantAfterRefill {
				t.Errorf("another client was refused: status %d", r.Code)
			}
			clock.Advance(6 * time.Second)
			if w := e.serve(tt.method, tt.right, tt.rightH, nil); w.Code != tt.wantAfterRefill {
				t.Errorf("after the refill: status %d, body %s", w.Code, w.Body)
			}
		})
	}
}
