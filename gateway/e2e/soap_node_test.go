package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// nodeDir holds the node-soap scripts and their pinned package-lock.json.
const nodeDir = "testdata/soap/node"

// nodeOnce finds node and the `soap` package, running `npm ci` in nodeDir
// when node_modules lacks it (make test and .ci/run do it first; this
// covers a bare `go test`).
var nodeOnce = sync.OnceValues(func() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "soap", "package.json")); err == nil {
		return node, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w\n%s", nodeDir, err, out)
	}
	return node, nil
})

// requireNode finds node with node-soap installed or skips loudly.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := nodeOnce()
	skipWithout(t, err, "node-soap (node, npm, the soap package)", "cd gateway/e2e/"+nodeDir+" && npm ci")
	return node
}

// node-soap, a client built at run time from the served WSDL, runs the
// steps of the PHP client (testdata/soap/node/exigo_client.js).
func TestExigoSOAPWithNode(t *testing.T) {
	t.Parallel()
	runSOAPClient(t, requireNode(t), nodeDir+"/exigo_client.js")
}

// node-soap against Magento SOAP v2 in its WS-I form
// (testdata/soap/node/magento_wsi.js): login, the store-credit history — the
// same rows the REST form answers — endSession, and the faults around them.
// Of Magento's three SOAP forms this is the one node-soap is built for
// (document/literal). It does not implement SOAP encoding: against v2
// (rpc/encoded) its untyped requests are answered, but it hands back each
// value as {$value, attributes} and a one-row SOAP-ENC array as an object,
// and v1's call() takes PHP-style arrays it cannot write.
func TestMagentoSOAPWSIWithNode(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	tc := newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctx := tenancy.WithTenant(t.Context(), tc.id)
	if ids := c.historyCreateCustomers(t, ctx, 1); ids[0] != 1 {
		t.Fatalf("first customer is %d, want 1", ids[0])
	}
	c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 1, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 2,
		Amount: "500", Comment: "By admin: john@example.com. (new balance)"})
	c.historyAwait(t, ctx, c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 1, Currency: "USD", WebsiteId: 2,
		Kind: "STORE_CREDIT", Action: 1, Amount: "-200.5", Comment: "By admin: john@example.com. (update balance)"}))
	code, raw, err := httpDo(t.Context(), "GET", sys.gateway+"/api/rest/customers/1/storecredit/history", basicAuth(tc.magentoUser, tc.magentoKey), nil)
	var rest []any
	if err != nil || code != 200 || json.Unmarshal(raw, &rest) != nil || len(rest) != 2 {
		t.Fatalf("REST history: %d %v %s", code, err, raw)
	}

	got := runScript(t, node, nodeDir+"/magento_wsi.js", sys.gateway+"/api/v2_soap/wsi/?wsdl", tc.magentoUser, tc.magentoKey, "1")
	if session, _ := field(got["login"]["ok"], "result").(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(session) {
		t.Errorf("login: %v, want a 32-character lowercase hex session id", got["login"])
	}
	// SOAP answers base_currency_code as xsi:nil, as the seed's SOAP example
	// shows it; node-soap leaves a nil element out of its object.
	for _, row := range rest {
		if m, ok := row.(map[string]any); ok {
			delete(m, "base_currency_code")
		}
	}
	for _, name := range []string{"history", "history of website 2"} {
		items, _ := field(got[name]["ok"], "result", "complexObjectArray").([]any)
		if diff := cmp.Diff(rest, items); diff != "" {
			t.Errorf("%s: SOAP rows differ from the REST form's (-REST +SOAP):\n%s", name, diff)
		}
	}
	if ended := field(got["end session"]["ok"], "result"); ended != true {
		t.Errorf("end session: %v, want result true", got["end session"])
	}
	for name, want := range map[string][2]string{
		"history of website 3": {"102", "No history found with requested parameters."},
		"unknown customer":     {"102", "No history found with requested parameters."},
		"invalid customer":     {"100", "Provided data is invalid."},
		"history after end":    {"5", "Session expired. Try to relogin."},
		"bad login":            {"2", "Access denied."},
	} {
		if f := got[name]["fault"]; field(f, "code") != want[0] || field(f, "string") != want[1] {
			t.Errorf("%s: answer %v, want fault %s %q", name, got[name], want[0], want[1])
		}
	}
}
