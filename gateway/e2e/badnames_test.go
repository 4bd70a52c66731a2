package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The rules for names and keys (services/platform/textrule), as each
// surface's caller meets them.
const (
	ruleBlank    = "must not be empty or only spaces"
	ruleKeyChars = "must contain only ASCII letters and digits"
	ruleFormat   = "must not contain control or invisible formatting characters"
)

// nativeBad is a native request the customer rules refuse, and the field
// the BadRequest violation must name.
type nativeBad struct {
	name, method, path, body string
	field, mention           string
}

// One rule for names and keys on every surface: a name of spaces, a key of
// "..", CR/LF, TAB, U+202E or a BOM in a name or key, and JSON member names
// that are not UTF-8 are refused by native /v1, MANEX and Exigo, each in its
// own error shape naming the field, and change nothing; names in any
// script, and free text in Exigo's extended fields, still pass as sent.
func TestNamesAndKeysOnEverySurface(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	exigo := basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword)
	createNative(t, native, `{"name":"Acme","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"acme1"}`)
	add, edit, get := "/API/Customer/Add/"+tc.manexKey, "/API/Customer/Edit/"+tc.manexKey, "/API/Customer/Get/"+tc.manexKey
	nativeName := func(name string) string { return `{"name":"` + name + `","status":"CUSTOMER_STATUS_ACTIVE"}` }
	nativeKey := func(key string) string {
		return `{"name":"Keyed","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"` + key + `"}`
	}
	exigoKey := func(key string) string {
		return `{"customerKey":"` + key + `","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`
	}

	nativeCases := []nativeBad{
		{name: "create, name missing", method: "POST", path: "/v1/customers", body: `{"status":"CUSTOMER_STATUS_ACTIVE"}`, field: "name", mention: ruleBlank},
		{name: "create, name only spaces", method: "POST", path: "/v1/customers", body: nativeName("   "), field: "name", mention: ruleBlank},
		{name: "create, name with CR LF", method: "POST", path: "/v1/customers", body: nativeName(`Acme\r\nCorp`), field: "name", mention: ruleFormat + " (found U+000D)"},
		{name: "create, name with TAB", method: "POST", path: "/v1/customers", body: nativeName(`Acme\tCorp`), field: "name", mention: ruleFormat + " (found U+0009)"},
		{name: "create, name with right-to-left override", method: "POST", path: "/v1/customers", body: nativeName(`Acme\u202eproC`), field: "name", mention: "U+202E"},
		{name: "create, name with byte order mark", method: "POST", path: "/v1/customers", body: nativeName(`\ufeffAcme`), field: "name", mention: "U+FEFF"},
		{name: "create, key dot dot", method: "POST", path: "/v1/customers", body: nativeKey(".."), field: "customer_key", mention: ruleKeyChars},
		{name: "create, key with a dash", method: "POST", path: "/v1/customers", body: nativeKey("acme-2"), field: "customer_key", mention: ruleKeyChars},
		{name: "create, phone with TAB", method: "POST", path: "/v1/customers", body: `{"name":"P","status":"CUSTOMER_STATUS_ACTIVE","phone":"555\t0100"}`, field: "phone", mention: "U+0009"},
		{name: "update, name only spaces", method: "PATCH", path: "/v1/customers/1", body: `{"name":" "}`, field: "name", mention: ruleBlank},
		{name: "update, name with LF", method: "PATCH", path: "/v1/customers/1", body: `{"name":"Acme\n"}`, field: "name", mention: "U+000A"},
		{name: "update, key dot dot", method: "PATCH", path: "/v1/customers/1", body: `{"customer_key":".."}`, field: "customer_key", mention: ruleKeyChars},
		{name: "lookup, key dot dot", method: "GET", path: "/v1/customers:lookup?customer_key=..", field: "customer_key", mention: ruleKeyChars},
		{name: "lookup, name only spaces", method: "GET", path: "/v1/customers:lookup?name=%20%20", field: "name", mention: ruleBlank},
		{name: "lookup, name with TAB", method: "GET", path: "/v1/customers:lookup?name=Acme%09", field: "name", mention: "U+0009"},
	}
	manexCases := []badRequest{
		{name: "add custname with CR LF", path: add + "?Status=Active&Custname=Acme%0D%0ACorp", mention: "Customer add failed.Custname " + ruleFormat + " (found U+000D)."},
		{name: "add custname with TAB", path: add + "?Status=Active&Custname=Acme%09Corp", mention: "Custname " + ruleFormat + " (found U+0009)."},
		{name: "add custname with right-to-left override", path: add + "?Status=Active&Custname=Acme%E2%80%AEproC", mention: "Custname " + ruleFormat + " (found U+202E)."},
		{name: "add custname with byte order mark", path: add + "?Status=Active&Custname=%EF%BB%BFAcme", mention: "Custname " + ruleFormat + " (found U+FEFF)."},
		{name: "add custname of ideographic spaces", path: add + "?Status=Active&Custname=%E3%80%80", mention: "Custname is required."},
		{name: "add custname with LF in the body", method: "POST", path: add, body: `{"Custname":"Acme\n","Status":"Active"}`, mention: "Custname " + ruleFormat + " (found U+000A)."},
		{name: "add phone with TAB", path: add + "?Status=Active&Custname=P&Phone=555%090100", mention: "Phone " + ruleFormat},
		{name: "add parameter name not UTF-8 in the body", method: "POST", path: add, body: "{\"Cust\xffname\":\"Acme\",\"Status\":\"Active\"}", mention: "The parameter name 'Cust\uFFFDname' is not valid UTF-8."},
		{name: "add parameter name not UTF-8 in the query", path: add + "?Status=Active&Cust%FFname=Acme", mention: "The parameter name 'Cust%FFname' is not valid UTF-8."},
		{name: "edit custname only spaces", path: edit + "?Custno=0000000001&Custname=%20%20", mention: "Customer edit failed.Custname " + ruleBlank + "."},
		{name: "edit custname emptied", path: edit + "?Custno=0000000001&Custname=", mention: "Custname " + ruleBlank + "."},
		{name: "edit custname with right-to-left override", method: "POST", path: edit, body: `{"Custno":"0000000001","Custname":"\u202eAcme"}`, mention: "Custname " + ruleFormat + " (found U+202E)."},
		{name: "get custnumorname with TAB", path: get + "?CustNumOrName=Acme%09", mention: "CustNumOrName " + ruleFormat + " (found U+0009)."},
	}
	exigoCases := []badRequest{
		{name: "customerKey dot dot", body: exigoKey(".."), mention: "customerKey " + ruleKeyChars + "."},
		{name: "customerKey with a dash", body: exigoKey("acme-1"), mention: "customerKey " + ruleKeyChars + "."},
		{name: "customerKey with CR LF", body: exigoKey(`acme1\r\n`), mention: "customerKey " + ruleKeyChars + "."},
		{name: "customerKey with right-to-left override", body: exigoKey(`\u202eacme1`), mention: "customerKey " + ruleKeyChars + "."},
		{name: "customerKey with byte order mark", body: exigoKey(`\ufeffacme1`), mention: "customerKey " + ruleKeyChars + "."},
		{name: "member name not UTF-8", body: "{\"customerID\":1,\"fi\xffeld1\":\"x\",\"extendedGroupID\":1,\"customerExtendedID\":1}",
			mention: `The property name "fi` + "\uFFFD" + `eld1" is not valid UTF-8.`},
		{name: "member value not UTF-8", body: "{\"customerID\":1,\"field2\":\"\xc3\",\"extendedGroupID\":1,\"customerExtendedID\":1}",
			mention: "field2 must be valid UTF-8."},
	}
	balanceCases := []badRequest{
		{name: "balances, customerKey dot dot", path: "/3.0/customers/balances?customerKey=..", mention: "customerKey " + ruleKeyChars + "."},
		{name: "balances, customerKey with LF", path: "/3.0/customers/balances?customerKey=acme1%0A", mention: "customerKey " + ruleKeyChars + "."},
	}

	before := snapshot(t, tc.id)
	t.Run("refused", func(t *testing.T) {
		for _, c := range nativeCases {
			t.Run("native/"+c.name, func(t *testing.T) {
				t.Parallel()
				var body []byte
				if c.body != "" {
					body = []byte(c.body)
				}
				code, v := call(t, c.method, c.path, native, body)
				checkNativeRefusal(t, code, v, c.field, c.mention)
			})
		}
		for _, r := range manexCases {
			t.Run("manex/"+r.name, func(t *testing.T) {
				t.Parallel()
				checkManexRefusal(t, r.send(t, nil), r)
			})
		}
		for _, r := range exigoCases {
			t.Run("exigo/"+r.name, func(t *testing.T) {
				t.Parallel()
				checkExigoRefusal(t, send(t, "PATCH", "/3.0/customers/extended", exigo, []byte(r.body)), r)
			})
		}
		for _, r := range balanceCases {
			t.Run("exigo/"+r.name, func(t *testing.T) {
				t.Parallel()
				checkExigoRefusal(t, r.send(t, exigo), r)
			})
		}
	})
	if diff := cmp.Diff(before, snapshot(t, tc.id)); diff != "" {
		t.Errorf("refused requests changed the database (-before +after):\n%s", diff)
	}

	t.Run("accepted", func(t *testing.T) {
		for _, name := range []string{"Société Générale", "株式会社東京", "می\u200cخواهم", "O'Brien & Sons, Inc."} {
			t.Run("native/"+name, func(t *testing.T) {
				id := createNative(t, native, `{"name":"`+name+`","status":"CUSTOMER_STATUS_ACTIVE"}`)
				code, v := call(t, "GET", "/v1/customers:lookup?name="+url.QueryEscape(name), native, nil)
				if code != 200 || field(v, "customer", "customer_id") != float64(id) || field(v, "customer", "name") != name {
					t.Errorf("lookup %q: %d %v", name, code, v)
				}
			})
			t.Run("manex/"+name, func(t *testing.T) {
				code, v := call(t, "GET", add+"?Status=Active&Custname="+url.QueryEscape(name), nil, nil)
				if code != 200 || field(v, "Code") != 200.0 || field(v, "ResponseObject", "CUSTNAME") != name {
					t.Errorf("add %q: %d %v", name, code, v)
				}
			})
		}
		t.Run("exigo/extended fields are free text", func(t *testing.T) {
			body := `{"customerKey":"acme1","extendedGroupID":1,"customerExtendedID":1,"field1":"line 1\r\nline 2\tend","field2":"\u202eabc"}`
			send(t, "PATCH", "/3.0/customers/extended", exigo, []byte(body)).wantStatus(t, 200)
			fields, err := extendedRecord(t, tc.id, 1, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if fields.GetField1() != "line 1\r\nline 2\tend" || fields.GetField2() != "\u202eabc" {
				t.Errorf("fields %q, %q stored", fields.GetField1(), fields.GetField2())
			}
		})
	})
}

// send sends the request to the gateway: GET unless it names a method, with
// its body if it has one.
func (r badRequest) send(t *testing.T, header map[string]string) answer {
	t.Helper()
	method := r.method
	if method == "" {
		method = "GET"
	}
	var body []byte
	if r.body != "" {
		body = []byte(r.body)
	}
	return send(t, method, r.path, header, body)
}

// checkNativeRefusal: 400 with a google.rpc.Status of INVALID_ARGUMENT whose
// BadRequest detail names the field (the proto validation names it by its
// path in the request, customer.name; the service by its own name).
func checkNativeRefusal(t *testing.T, code int, v any, wantField, mention string) {
	t.Helper()
	if code != 400 || field(v, "code") != 3.0 {
		t.Fatalf("HTTP %d, want 400 with code 3: %v", code, v)
	}
	violation := field(v, "details", 0, "field_violations", 0)
	got, _ := field(violation, "field").(string)
	if got != wantField && got != "customer."+wantField {
		t.Errorf("violation of %q, want %s: %v", got, wantField, v)
	}
	if desc, _ := field(violation, "description").(string); !strings.Contains(desc, mention) {
		t.Errorf("violation %q does not mention %q", desc, mention)
	}
	t.Logf("%s: %v", got, field(v, "message"))
}
