package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// With the ledger and history unreachable (nothing listens on their ports),
// every API answers its own "unavailable" shape, and none shows the gRPC
// client's text ("connection refused", the address dialed): that stays in
// the gateway's log.
func TestUnreachableUpstreamHidesInternals(t *testing.T) {
	t.Parallel()
	dead, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, "ABACUS_LEDGER_ADDR="+dead, "ABACUS_HISTORY_ADDR="+dead)
	tc := newTenant(t)
	native := basicHeader(tc.magentoUser, tc.magentoKey)
	keyed := native.Clone()
	keyed.Set("Idempotency-Key", "outage-1")
	tests := []struct {
		name, method, path, body string
		auth                     http.Header
		shape                    func(v any) bool
	}{
		{"native posting", "POST", "/v1/customers/1/entries", `{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`, keyed,
			func(v any) bool {
				return field(v, "code") == 14.0 && strings.Contains(fmt.Sprint(field(v, "message")), "retried safely with the same Idempotency-Key")
			}},
		{"native balances", "GET", "/v1/customers/1/balances", "", native, func(v any) bool {
			return field(v, "code") == 14.0
		}},
		{"exigo balances", "GET", "/3.0/customers/balances?customerID=1", "", basicHeader(tc.exigoLogin+"@"+tc.company, tc.exigoPassword),
			func(v any) bool {
				return field(v, "result", "status") == "Failure" && field(v, "result", "errors", 0) == "Service temporarily unavailable. Try again later."
			}},
		{"igsend", "GET", "/services/clientbalance/?ClientID=1", "", basicHeader(tc.igsendPublic, tc.igsendPrivate), func(v any) bool {
			return field(v, "coreRes", "status") == 2.0 && field(v, "coreRes", "MessageID") == 10000.0
		}},
		{"magento", "GET", "/api/rest/customers/1/storecredit/history", "", native, func(v any) bool {
			return field(v, "messages", "error", 0, "code") == 503.0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := sendHeader(t, gw, tt.method, tt.path, tt.auth, tt.body)
			if a.status != 503 || !tt.shape(a.json) {
				t.Errorf("got %d %s; want 503 in the API's unavailable shape", a.status, a.body)
			}
			for _, leak := range []string{"connection", "refused", "dial", "127.0.0.1", "transport", "rpc error"} {
				if strings.Contains(strings.ToLower(string(a.body)), leak) {
					t.Errorf("answer shows internals (%q): %s", leak, a.body)
				}
			}
			for k := range a.header {
				if strings.HasPrefix(k, "Grpc-") {
					t.Errorf("answer carries %s", k)
				}
			}
		})
	}
}
