package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// outageRoute is one route of each API and the service method it calls.
type outageRoute struct {
	name, method, target, body string
	header                     map[string]string
	calls                      string
}

var outageRoutes = []outageRoute{
	{name: "native read", target: "/v1/customers/42/balances", header: basic("mage", "mage-key"), calls: "GetBalances"},
	{name: "native posting", method: http.MethodPost, target: "/v1/customers/42/entries", header: basic("mage", "mage-key"),
		body: `{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`, calls: "PostEntry"},
	{name: "exigo balances", target: "/3.0/customers/balances?customerID=7", header: basic("jdoe@acme", "exigo-pw"), calls: "GetBalances"},
	{name: "exigo extended", method: http.MethodPatch, target: "/3.0/customers/extended", header: basic("jdoe@acme", "exigo-pw"),
		body: `{"customerID":7,"extendedGroupID":1,"customerExtendedID":2,"field3":"x"}`, calls: "UpdateCustomerExtended"},
	{name: "igsend", target: "/services/clientbalance/?ClientID=7", header: basic("pub-live", "priv-live"), calls: "GetBalances"},
	{name: "manex", target: "/API/Customer/Get/K123456789?CustNumOrName=Acme", calls: "LookupCustomer"},
	{name: "magento", target: "/api/rest/customers/4/storecredit/history", header: basic("mage", "mage-key"), calls: "ListHistory"},
}

// unavailableBodies are each API's "unavailable" answer, all HTTP 503.
var unavailableBodies = map[string]string{
	"native read":    nativeUnavailable,
	"native posting": nativeUnavailable,
	"exigo balances": exigoFailure(true, "Service temporarily unavailable. Try again later."),
	"exigo extended": exigoFailure(false, "Service temporarily unavailable. Try again later."),
	"igsend":         `{"coreRes":{"status":2,"Message":"Service temporarily unavailable. Try again later.","MessageID":10000},"tableRes":[]}`,
	"manex":          manexEnvelope("503", "Service temporarily unavailable. Try again later.", true, "null"),
	"magento":        `{"messages":{"error":[{"code":503,"message":"Service temporarily unavailable."}]}}`,
}

// internalBodies are each API's answer to an internal failure, all HTTP 500.
var internalBodies = map[string]string{
	"native read":    `{"code":13,"message":"internal error","details":[]}`,
	"native posting": `{"code":13,"message":"internal error","details":[]}`,
	"exigo balances": exigoFailure(true, "An internal error occurred."),
	"exigo extended": exigoFailure(false, "An internal error occurred."),
	"igsend":         `{"coreRes":{"status":2,"Message":"Internal error.","MessageID":10000},"tableRes":[]}`,
	"manex":          manexEnvelope("500", "An error has occurred.", true, "null"),
	"magento":        `{"messages":{"error":[{"code":500,"message":"Internal error."}]}}`,
}

// TestUpstreamOutage: an outage, a passed deadline, an unknown outcome (a
// commit cut off) and exhausted resources are each API's "unavailable"
// answer, HTTP 503; an internal failure is its 500. The service's text
// reaches the log, once, and never the caller.
func TestUpstreamOutage(t *testing.T) {
	t.Parallel()
	failures := []struct {
		name       string
		err        error
		wantStatus int
		bodies     map[string]string
		wantLevel  string
	}{
		{"connection refused", status.Error(codes.Unavailable,
			`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:9092: connect: connection refused"`),
			http.StatusServiceUnavailable, unavailableBodies, "WARN"},
		{"deadline exceeded", status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
			http.StatusServiceUnavailable, unavailableBodies, "WARN"},
		{"unknown outcome", status.Error(codes.Unknown,
			"the posting's commit was cut off, so it may or may not have been written; retry with the same idempotency key"),
			http.StatusServiceUnavailable, unavailableBodies, "WARN"},
		{"resource exhausted", status.Error(codes.ResourceExhausted, "grpc: received message larger than max"),
			http.StatusServiceUnavailable, unavailableBodies, "WARN"},
		{"internal", status.Error(codes.Internal, "pq: password authentication failed for user ledger"),
			http.StatusInternalServerError, internalBodies, "ERROR"},
	}
	for _, f := range failures {
		for _, rt := range outageRoutes {
			t.Run(f.name+"/"+rt.name, func(t *testing.T) {
				t.Parallel()
				fe := newFailingEnv(t, map[string]error{rt.calls: f.err})
				method := rt.method
				if method == "" {
					method = http.MethodGet
				}
				w := fe.serve(method, rt.target, rt.header, strings.NewReader(rt.body))
				checkAnswer(t, w, f.wantStatus, f.bodies[rt.name], nil)
				text := status.Convert(f.err).Message()
				if strings.Contains(w.Body.String(), text) {
					t.Errorf("answer shows the service's text %q: %s", text, w.Body)
				}
				if fe.conns["customer"].lastRequest(rt.calls) == nil && fe.conns["ledger"].lastRequest(rt.calls) == nil &&
					fe.conns["history"].lastRequest(rt.calls) == nil {
					t.Fatalf("%s was never called", rt.calls)
				}
				probs := fe.problems(t)
				if len(probs) != 1 || probs[0]["level"] != f.wantLevel || !strings.Contains(fmt.Sprint(probs[0]["error"]), text) {
					t.Errorf("log = %v, want one %s line with %q", probs, f.wantLevel, text)
				}
			})
		}
	}
}

// TestExigoNotFoundWording: both Exigo routes say the same sentence, in
// Exigo's voice, for a customer the tenant does not have, whatever words the
// service used.
func TestExigoNotFoundWording(t *testing.T) {
	t.Parallel()
	auth := basic("jdoe@acme", "exigo-pw")
	tests := []struct {
		name, query, body, want string
	}{
		{"by customerID", "customerID=99", `"customerID":99`, "No customer has customerID 99."},
		{"by customerKey", "customerKey=nope", `"customerKey":"nope"`, `No customer has customerKey \"nope\".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fe := newFailingEnv(t, map[string]error{
				"GetBalances":            status.Error(codes.NotFound, "customer 99 not found"),
				"UpdateCustomerExtended": status.Error(codes.NotFound, `not found: customer with id 99`),
			})
			w := fe.serve(http.MethodGet, "/3.0/customers/balances?"+tt.query, auth, nil)
			checkAnswer(t, w, http.StatusNotFound, exigoFailure(true, tt.want), nil)
			w = fe.serve(http.MethodPatch, "/3.0/customers/extended", auth,
				strings.NewReader(`{`+tt.body+`,"extendedGroupID":1,"customerExtendedID":2,"field1":"x"}`))
			checkAnswer(t, w, http.StatusNotFound, exigoFailure(false, tt.want), nil)
		})
	}
}
