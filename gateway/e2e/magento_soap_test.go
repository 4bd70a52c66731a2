package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// seedV1Response is the seed's "Response Example SOAP V1" (003_…) as the
// seed prints it (xdebug's var_dump): what PHP's SoapClient hands the
// seed's V1 example.
const seedV1Response = `array
  0 =>
    array
      'history_id' => string '2' (length=1)
      'balance_id' => string '1' (length=1)
      'updated_at' => string '2012-04-06 13:50:33' (length=19)
      'action' => string '1' (length=1)
      'balance_amount' => string '300.0000' (length=8)
      'balance_delta' => string '-200.0000' (length=9)
      'additional_info' => string 'By admin: john@example.com. (update balance)' (length=44)
      'is_customer_notified' => string '0' (length=1)
      'customer_id' => string '4' (length=1)
      'website_id' => string '2' (length=1)
      'base_currency_code' => null
  1 =>
    array
      'history_id' => string '1' (length=1)
      'balance_id' => string '1' (length=1)
      'updated_at' => string '2012-04-06 13:44:58' (length=19)
      'action' => string '2' (length=1)
      'balance_amount' => string '500.0000' (length=8)
      'balance_delta' => string '500.0000' (length=8)
      'additional_info' => string 'By admin: john@example.com. (new balance)' (length=41)
      'is_customer_notified' => string '0' (length=1)
      'customer_id' => string '4' (length=1)
      'website_id' => string '2' (length=1)
      'base_currency_code' => null`

var (
	varDumpKey    = regexp.MustCompile(`^(\d+|'[^']*') =>(?: (.*))?$`)
	varDumpString = regexp.MustCompile(`^string '(.*)' \(length=(\d+)\)$`)
)

// varDumpLines writes an xdebug var_dump of arrays, strings and nulls (the
// seed's form) as the lines magento_common.php's flat writes: "PATH TYPE
// [VALUE]", in order, one per value.
func varDumpLines(dump string) ([]string, error) {
	type container struct {
		indent int
		path   string
	}
	var (
		lines   []string
		open    []container
		pending = "$" // the path of the value on the next line
	)
	for _, raw := range strings.Split(dump, "\n") {
		indent := len(raw) - len(strings.TrimLeft(raw, " "))
		text := strings.TrimSpace(raw)
		if text == "array" {
			lines = append(lines, pending+" array")
			open = append(open, container{indent, pending})
			continue
		}
		m := varDumpKey.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("var_dump line %q", raw)
		}
		for len(open) > 0 && open[len(open)-1].indent >= indent {
			open = open[:len(open)-1]
		}
		if len(open) == 0 {
			return nil, fmt.Errorf("var_dump line %q is in no array", raw)
		}
		path := open[len(open)-1].path + "[" + m[1] + "]"
		switch value := m[2]; {
		case value == "":
			pending = path // an array follows
		case value == "null":
			lines = append(lines, path+" null")
		default:
			s := varDumpString.FindStringSubmatch(value)
			if s == nil || strconv.Itoa(len(s[1])) != s[2] {
				return nil, fmt.Errorf("var_dump value %q", value)
			}
			lines = append(lines, path+" string "+s[1])
		}
	}
	return lines, nil
}

// withValues returns lines with the values at the given paths replaced:
// values maps a path to its new "TYPE VALUE". Every path must be present.
func withValues(t *testing.T, lines []string, values map[string]string) []string {
	t.Helper()
	out := slices.Clone(lines)
	seen := 0
	for i, l := range out {
		path, _, _ := strings.Cut(l, " ")
		if v, ok := values[path]; ok {
			out[i] = path + " " + v
			seen++
		}
	}
	if seen != len(values) {
		t.Fatalf("replaced %d of the paths %v in %v", seen, values, lines)
	}
	return out
}

var (
	magentoItemLine  = regexp.MustCompile(`^\$\[(\d+)\] array$`)
	magentoFieldLine = regexp.MustCompile(`^\$\[(\d+)\]\['(\w+)'\] `)
)

// asV2 turns the lines of v1's list of associative arrays into those of
// v2's list of entity objects (stdClass, with the same properties in the
// same order), under root: "$" for v2's answer, "$->complexObjectArray"
// for WS-I's result.
func asV2(lines []string, root string) []string {
	var out []string
	for _, l := range lines {
		l = magentoItemLine.ReplaceAllString(l, `$$[$1] object(stdClass)`)
		l = magentoFieldLine.ReplaceAllString(l, `$$[$1]->$2 `)
		out = append(out, root+strings.TrimPrefix(l, "$"))
	}
	return out
}

// magentoStep is what one step of a Magento client script must answer:
// exactly lines, lines matching pattern (joined by newlines), or a fault.
type magentoStep struct {
	lines   []string
	pattern *regexp.Regexp
	fault   *[2]string // faultcode, faultstring
}

var (
	faultAccessDenied   = &[2]string{"2", "Access denied."}
	faultInvalidAPIPath = &[2]string{"3", "Invalid api path."}
	faultSession        = &[2]string{"5", "Session expired. Try to relogin."}
	faultInvalidData    = &[2]string{"100", "Provided data is invalid."}
	faultNoHistory      = &[2]string{"102", "No history found with requested parameters."}
)

// checkMagentoSteps compares every step a script printed with want, and
// finds no step missing or unexpected.
func checkMagentoSteps(t *testing.T, got map[string]map[string]any, want map[string]magentoStep) {
	t.Helper()
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("step %q: not expected; answer %v", name, got[name])
		}
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("step %q: missing", name)
			continue
		}
		checkMagentoStep(t, name, g, w)
	}
}

func checkMagentoStep(t *testing.T, name string, got map[string]any, want magentoStep) {
	t.Helper()
	if want.fault != nil {
		f, _ := got["fault"].(map[string]any)
		if f == nil || f["code"] != want.fault[0] || f["string"] != want.fault[1] {
			t.Errorf("step %q: answer %v, want fault %s %q", name, got, want.fault[0], want.fault[1])
		}
		return
	}
	raw, ok := got["ok"].([]any)
	if !ok {
		t.Errorf("step %q: answer %v, want a result", name, got)
		return
	}
	var lines []string
	for _, l := range raw {
		s, _ := l.(string)
		lines = append(lines, s)
	}
	if want.pattern != nil {
		if joined := strings.Join(lines, "\n"); !want.pattern.MatchString(joined) {
			t.Errorf("step %q: answer %q does not match %s", name, joined, want.pattern)
		}
		return
	}
	if diff := cmp.Diff(want.lines, lines); diff != "" {
		t.Errorf("step %q: answer differs (-want +got):\n%s", name, diff)
	}
}

// PHP's SoapClient, generated from the served WSDLs, runs the seed's three
// Magento examples (testdata/soap/magento_v1.php, magento_v2.php,
// magento_wsi.php) against the whole system on the seed's own data:
// customer 4's store credit created at 500 (action 2) on website 2, then
// updated by -200 (action 1). V1 must hand the caller exactly the seed's
// "Response Example SOAP V1"; v2 and WS-I the same entities as objects.
// Around them every Magento SOAP fault (gateway/internal/magento/README.md),
// and sessions across gateway processes and through a revoke
// (magento_session.php).
func TestMagentoSOAPWithPHP(t *testing.T) {
	t.Parallel()
	php := requirePHP(t)
	tc := newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctx := tenancy.WithTenant(t.Context(), tc.id)
	ids := c.historyCreateCustomers(t, ctx, 4) // a fresh tenant numbers its customers from 1
	if ids[0] != 1 || ids[3] != 4 {
		t.Fatalf("customers %v, want 1 to 4", ids)
	}
	created := c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 4, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 2,
		Amount: "500", Comment: "By admin: john@example.com. (new balance)"})
	updated := c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 4, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 1,
		Amount: "-200", Comment: "By admin: john@example.com. (update balance)"})
	c.historyAwait(t, ctx, updated)
	// Another tenant's customer 5 has history; this tenant has no customer 5.
	other := newTenant(t)
	otherCtx := tenancy.WithTenant(t.Context(), other.id)
	if otherIDs := c.historyCreateCustomers(t, otherCtx, 5); otherIDs[4] != 5 {
		t.Fatalf("the other tenant's customers %v, want 1 to 5", otherIDs)
	}
	c.historyAwait(t, otherCtx, c.historyPost(t, otherCtx, &ledgerv1.Posting{CustomerId: 5, Currency: "USD", WebsiteId: 2,
		Kind: "STORE_CREDIT", Action: 2, Amount: "70", Comment: "theirs"}))
	const customer, empty, foreign = "4", "1", "5"

	seed, err := varDumpLines(seedV1Response)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's ids and times are its own run's; these are this run's.
	updatedAt := func(e *ledgerv1.Entry) string {
		return "string " + e.GetPostTime().AsTime().UTC().Format(time.DateTime)
	}
	v1 := withValues(t, seed, map[string]string{
		"$[0]['history_id']": fmt.Sprint("string ", updated.GetEntryId()),
		"$[0]['balance_id']": fmt.Sprint("string ", updated.GetBalanceId()),
		"$[0]['updated_at']": updatedAt(updated),
		"$[1]['history_id']": fmt.Sprint("string ", created.GetEntryId()),
		"$[1]['balance_id']": fmt.Sprint("string ", created.GetBalanceId()),
		"$[1]['updated_at']": updatedAt(created),
	})
	v2, wsi := asV2(v1, "$"), append([]string{"$ object(stdClass)"}, asV2(v1, "$->complexObjectArray")...)
	sessionID := regexp.MustCompile(`^\$ string [0-9a-f]{32}$`)
	faults := map[string]magentoStep{
		"website 1":                 {fault: faultNoHistory},
		"customer abc":              {fault: faultInvalidData},
		"website -1":                {fault: faultInvalidData},
		"customer without history":  {fault: faultNoHistory},
		"another tenant's customer": {fault: faultNoHistory},
		"bad login":                 {fault: faultAccessDenied},
		"unknown session":           {fault: faultSession},
		"after endSession":          {fault: faultSession},
	}
	steps := func(more map[string]magentoStep) map[string]magentoStep {
		m := map[string]magentoStep{}
		for _, from := range []map[string]magentoStep{faults, more} {
			for k, v := range from {
				m[k] = v
			}
		}
		return m
	}
	args := []string{tc.magentoUser, tc.magentoKey, customer, empty, foreign}
	run := func(script, target string) map[string]map[string]any {
		return runScript(t, php, "testdata/soap/"+script, append([]string{target}, args...)...)
	}

	// A second gateway process, with Magento's global WS-I switch on.
	wsiGateway := startGateway(t, "ABACUS_MAGENTO_WSI=true")

	t.Run("v1", func(t *testing.T) {
		checkMagentoSteps(t, run("magento_v1.php", sys.gateway), steps(map[string]magentoStep{
			"login":               {pattern: sessionID},
			"storecredit.history": {lines: v1},
			"the resource name":   {lines: v1},
			"website 2":           {lines: v1},
			"named arguments":     {lines: v1},
			"unknown resource":    {fault: faultInvalidAPIPath},
			"malformed session":   {fault: faultSession},
			"endSession":          {lines: []string{"$ bool true"}},
		}))
	})
	t.Run("v2", func(t *testing.T) {
		checkMagentoSteps(t, run("magento_v2.php", sys.gateway), steps(map[string]magentoStep{
			"login":                            {pattern: sessionID},
			"enterpriseCustomerbalanceHistory": {lines: v2},
			"website 2":                        {lines: v2},
			"endSession":                       {lines: []string{"$ bool true"}},
		}))
	})
	wsiSteps := steps(map[string]magentoStep{
		"login":                            {pattern: regexp.MustCompile(`^\$ object\(stdClass\)\n\$->result string [0-9a-f]{32}$`)},
		"enterpriseCustomerbalanceHistory": {lines: wsi},
		"every website":                    {lines: wsi},
		"endSession":                       {lines: []string{"$ object(stdClass)", "$->result bool true"}},
	})
	t.Run("WS-I", func(t *testing.T) {
		checkMagentoSteps(t, run("magento_wsi.php", sys.gateway+"/index.php/api/v2_soap/wsi/?wsdl"), wsiSteps)
	})
	t.Run("WS-I switch", func(t *testing.T) {
		// The seed's URL as written, on the gateway with ABACUS_MAGENTO_WSI.
		checkMagentoSteps(t, run("magento_wsi.php", wsiGateway+"/index.php/api/v2_soap/?wsdl"), wsiSteps)
	})

	// magento_session.php runs one step on one gateway.
	session := func(t *testing.T, gateway string, step ...string) map[string]any {
		t.Helper()
		return runScript(t, php, "testdata/soap/magento_session.php", append([]string{gateway}, step...)...)[step[0]]
	}
	login := func(t *testing.T, gateway, user, key string) string {
		t.Helper()
		got := session(t, gateway, "login", user, key)
		checkMagentoStep(t, "login", got, magentoStep{pattern: sessionID})
		lines, _ := got["ok"].([]any)
		if len(lines) != 1 {
			t.FailNow()
		}
		return strings.TrimPrefix(lines[0].(string), "$ string ")
	}
	t.Run("a session through another gateway", func(t *testing.T) {
		id := login(t, sys.gateway, tc.magentoUser, tc.magentoKey)
		checkMagentoStep(t, "history", session(t, wsiGateway, "history", id, customer), magentoStep{lines: v1})
		checkMagentoStep(t, "endSession", session(t, wsiGateway, "endSession", id), magentoStep{lines: []string{"$ bool true"}})
		checkMagentoStep(t, "history after endSession", session(t, sys.gateway, "history", id, customer), magentoStep{fault: faultSession})
	})
	t.Run("revoked credential", func(t *testing.T) {
		cr, err := sys.admin.CreateCredential(t.Context(), &customerv1.CreateCredentialRequest{TenantId: tc.id, Kind: customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO})
		if err != nil {
			t.Fatal(err)
		}
		id := login(t, sys.gateway, cr.GetCredential().GetIdentifier(), cr.GetSecret())
		checkMagentoStep(t, "history", session(t, sys.gateway, "history", id, customer), magentoStep{lines: v1})
		if _, err := sys.admin.RevokeCredential(t.Context(), &customerv1.RevokeCredentialRequest{CredentialId: cr.GetCredential().GetCredentialId()}); err != nil {
			t.Fatal(err)
		}
		for _, gw := range []string{sys.gateway, wsiGateway} {
			checkMagentoStep(t, "history after the revoke via "+gw, session(t, gw, "history", id, customer), magentoStep{fault: faultSession})
		}
		checkMagentoStep(t, "login after the revoke", session(t, sys.gateway, "login", cr.GetCredential().GetIdentifier(), cr.GetSecret()),
			magentoStep{fault: faultAccessDenied})
	})
}

// The seed's var_dump and the lines flat writes agree on every form the
// seed uses, and a malformed dump is refused.
func TestVarDumpLines(t *testing.T) {
	t.Parallel()
	got, err := varDumpLines("array\n  0 =>\n    array\n      'a' => string 'x y' (length=3)\n      'b' => null\n  1 =>\n    array\n      'c' => string '' (length=0)")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"$ array", "$[0] array", "$[0]['a'] string x y", "$[0]['b'] null", "$[1] array", "$[1]['c'] string "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"array\n  'a' => string 'x' (length=2)", "array\n  'a' => int 3", "  'a' => null"} {
		if lines, err := varDumpLines(bad); err == nil {
			t.Errorf("%q: %v, want an error", bad, lines)
		}
	}
	if got := asV2(want[1:], "$->r"); !cmp.Equal(got, []string{"$->r[0] object(stdClass)", "$->r[0]->a string x y", "$->r[0]->b null", "$->r[1] object(stdClass)", "$->r[1]->c string "}) {
		t.Errorf("asV2: %q", got)
	}
}
