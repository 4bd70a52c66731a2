package e2e

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// startFrozen serves gRPC on a port that accepts every call and never
// answers it: the ledger or history as seen while its process is stopped
// (SIGSTOP) behind a live socket, or wedged.
func startFrozen(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		<-stream.Context().Done()
		return stream.Context().Err()
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// startGateway runs one more gateway process with extra settings, in front
// of the shared stack's services unless the settings name others, and
// returns its base URL.
func startGateway(t *testing.T, extraEnv ...string) string {
	t.Helper()
	return "http://" + addProc(t, "gateway", extraEnv...).Addr
}

// With the ledger and the history frozen, every dialect answers within the
// call deadlines, each in its own "unavailable" shape, and says nothing of
// the gateway's insides. Before calls had deadlines, these requests hung
// for as long as the upstream stayed frozen.
func TestFrozenUpstreamAnswersUnavailable(t *testing.T) {
	t.Parallel()
	frozen := startFrozen(t)
	gw := startGateway(t, "ABACUS_LEDGER_ADDR="+frozen, "ABACUS_HISTORY_ADDR="+frozen,
		"ABACUS_READ_TIMEOUT=300ms", "ABACUS_WRITE_TIMEOUT=600ms")
	tc := newTenant(t)
	exigo := basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword)
	igsend := basicAuth(tc.igsendPublic, tc.igsendPrivate)
	magento := basicAuth(tc.magentoUser, tc.magentoKey)
	posting := []byte(`{"currency":"USD","kind":"PAYMENT","amount":"25.00"}`)

	tests := []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		// shape checks the decoded answer is the dialect's "unavailable".
		shape func(v any) bool
	}{
		{"exigo balances", "GET", "/3.0/customers/balances?customerID=1", exigo, nil, func(v any) bool {
			return field(v, "result", "status") == "Failure" && field(v, "customerBalances") == nil
		}},
		{"igsend balance", "GET", "/services/clientbalance/?ClientID=1", igsend, nil, func(v any) bool {
			return field(v, "coreRes", "status") == 2.0 && field(v, "coreRes", "MessageID") == 10000.0
		}},
		{"native balances", "GET", "/v1/customers/1/balances", magento, nil, func(v any) bool {
			return field(v, "code") == 14.0
		}},
		{"native posting", "POST", "/v1/customers/1/entries", withHeader(magento, "Idempotency-Key", "frozen-1"), posting, func(v any) bool {
			return field(v, "code") == 14.0
		}},
		{"native batch", "POST", "/v1/entries:batchPost", magento,
			[]byte(`{"postings":[{"customer_id":1,"currency":"USD","kind":"PAYMENT","amount":"1"}]}`), func(v any) bool {
				return field(v, "code") == 14.0
			}},
		{"native history", "GET", "/v1/customers/1/history", magento, nil, func(v any) bool {
			return field(v, "code") == 14.0
		}},
		{"magento history", "GET", "/api/rest/customers/1/storecredit/history", magento, nil, func(v any) bool {
			return field(v, "messages", "error", 0, "code") != nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A bound far above the deadlines, so that a hang fails the test
			// instead of stalling it; it is not a measurement.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			code, raw, err := httpDo(ctx, tt.method, gw+tt.path, tt.header, tt.body)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("answer is not JSON (%d): %s", code, raw)
			}
			if code != 503 || !tt.shape(v) {
				t.Errorf("got %d %s; want 503 in the dialect's unavailable shape", code, raw)
			}
			for _, leak := range []string{"dial", "127.0.0.1", "deadline", "rpc error", "transport"} {
				if strings.Contains(strings.ToLower(string(raw)), leak) {
					t.Errorf("answer shows internals (%q): %s", leak, raw)
				}
			}
		})
	}
}
