package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The native API's one enum convention, through the real gateway: values
// are written by their short names ("ACTIVE", as a posting's kind is
// "PAYMENT") in every answer, and read by short name, proto name or number
// in bodies and query parameters; any other value is a 400 naming the
// field and the values it takes. The OpenAPI document says the same.
func TestNativeEnumConvention(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	auth := basicAuth(tc.magentoUser, tc.magentoKey)
	refused := func(field, value string) string {
		return fmt.Sprintf(`%s: %q is not a valid value; use one of UNSPECIFIED, ACTIVE, INACTIVE, QUOTE`, field, value)
	}
	calls := []nativeCall{
		{name: "create, short name", method: "POST", path: "/v1/customers", body: `{"name":"Short","status":"QUOTE"}`, status: 200,
			want: map[string]any{"customer.customer_id": 1.0, "customer.status": "QUOTE"}},
		{name: "create, proto name", method: "POST", path: "/v1/customers", body: `{"name":"Long","status":"CUSTOMER_STATUS_INACTIVE"}`, status: 200,
			want: map[string]any{"customer.customer_id": 2.0, "customer.status": "INACTIVE"}},
		{name: "create, number", method: "POST", path: "/v1/customers", body: `{"name":"Number","status":1}`, status: 200,
			want: map[string]any{"customer.customer_id": 3.0, "customer.status": "ACTIVE"}},
		{name: "create, unknown value", method: "POST", path: "/v1/customers", body: `{"name":"Bad","status":"OPEN"}`, status: 400,
			want: map[string]any{"code": 3.0, "message": refused("status", "OPEN")}},
		{name: "create, lower case", method: "POST", path: "/v1/customers", body: `{"name":"Bad","status":"active"}`, status: 400,
			want: map[string]any{"code": 3.0, "message": refused("status", "active")}},
		{name: "get", method: "GET", path: "/v1/customers/1", status: 200, want: map[string]any{"customer.status": "QUOTE"}},
		{name: "lookup", method: "GET", path: "/v1/customers:lookup?name=Long", status: 200, want: map[string]any{"customer.status": "INACTIVE"}},
		{name: "update, short name", method: "PATCH", path: "/v1/customers/1", body: `{"status":"ACTIVE"}`, status: 200,
			want: map[string]any{"customer.status": "ACTIVE"}},
		{name: "update, unknown value", method: "PATCH", path: "/v1/customers/1", body: `{"status":"CLOSED"}`, status: 400,
			want: map[string]any{"code": 3.0, "message": refused("status", "CLOSED")}},
		{name: "filter, short name", method: "GET", path: "/v1/customers?status=ACTIVE", status: 200,
			want: map[string]any{"customers.0.customer_id": 1.0, "customers.0.status": "ACTIVE", "customers.1.customer_id": 3.0, "customers.2": nil}},
		{name: "filter, proto name", method: "GET", path: "/v1/customers?status=CUSTOMER_STATUS_INACTIVE", status: 200,
			want: map[string]any{"customers.0.customer_id": 2.0, "customers.0.status": "INACTIVE", "customers.1": nil}},
		{name: "filter, number", method: "GET", path: "/v1/customers?status=2", status: 200,
			want: map[string]any{"customers.0.customer_id": 2.0, "customers.1": nil}},
		{name: "filter, unknown value", method: "GET", path: "/v1/customers?status=open", status: 400,
			want: map[string]any{"code": 3.0, "message": refused("status", "open")}},
		{name: "posting kind", method: "POST", path: "/v1/customers/1/entries", body: `{"currency":"USD","kind":"PAYMENT","amount":"2.50"}`, status: 200,
			want: map[string]any{"entry.kind": "PAYMENT"}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			code, raw, err := httpDo(t.Context(), c.method, sys.gateway+c.path, auth, body)
			if err != nil {
				t.Fatal(err)
			}
			if code != c.status {
				t.Fatalf("HTTP %d, want %d: %s", code, c.status, raw)
			}
			if strings.Contains(string(raw), "CUSTOMER_STATUS_") {
				t.Errorf("answer names a value by its proto name: %s", raw)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("answer is not JSON: %s", raw)
			}
			for path, want := range c.want {
				if got := field(v, splitPath(path)...); got != want {
					t.Errorf("%s = %#v, want %#v (answer %s)", path, got, want, raw)
				}
			}
		})
	}

	// The document the gateway serves lists the names the API takes.
	code, raw, err := httpDo(t.Context(), "GET", sys.gateway+"/openapi.json", nil, nil)
	if err != nil || code != 200 {
		t.Fatalf("GET /openapi.json: %d %v", code, err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(field(doc, "definitions", "v1CustomerStatus", "enum")); got != "[UNSPECIFIED ACTIVE INACTIVE QUOTE]" {
		t.Errorf("/openapi.json v1CustomerStatus enum = %s", got)
	}
}

// nativeCall is one native request and what its answer must hold.
type nativeCall struct {
	name         string
	method, path string
	body         string
	status       int
	// want are values at paths of the answer (see field); nil checks
	// nothing more.
	want map[string]any
}

// The native /v1 API for customers and extended records, generated from the
// proto annotations: every route, its happy path and its errors as
// google.rpc.Status JSON.
func TestNativeCustomers(t *testing.T) {
	t.Parallel()
	tc, other := newTenant(t), newTenant(t)
	auth := basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword)
	createNative(t, basicAuth(other.magentoUser, other.magentoKey), `{"name":"Theirs","status":"CUSTOMER_STATUS_ACTIVE"}`)
	createNative(t, basicAuth(other.magentoUser, other.magentoKey), `{"name":"Theirs 2","status":"CUSTOMER_STATUS_ACTIVE"}`)
	createNative(t, basicAuth(other.magentoUser, other.magentoKey), `{"name":"Theirs 3","status":"CUSTOMER_STATUS_ACTIVE"}`)

	calls := []nativeCall{
		{name: "create, every kind of field", method: "POST", path: "/v1/customers", status: 200,
			body: `{"customer_key":"acme1","name":"Acme","status":"ACTIVE","territory":"EAST","terms":"NET 30",
				"credit_limit":"1500.50","credit_status":"OK","account_date":"2014-11-19T10:09:57Z","labor":true}`,
			want: map[string]any{"customer.customer_id": 1.0, "customer.customer_number": "0000000001", "customer.credit_limit": "1500.5",
				"customer.status": "ACTIVE", "customer.account_date": "2014-11-19T10:09:57Z", "customer.version": "1",
				"customer.modify_time": nil, "customer.labor": true}},
		{name: "create with a number", method: "POST", path: "/v1/customers", status: 200,
			body: `{"customer_number":"0000000100","name":"Acme West","status":"QUOTE","territory":"WEST"}`,
			want: map[string]any{"customer.customer_id": 2.0, "customer.customer_number": "0000000100", "customer.status": "QUOTE"}},
		{name: "create a namesake", method: "POST", path: "/v1/customers", status: 200,
			body: `{"name":"Acme","status":"CUSTOMER_STATUS_INACTIVE","territory":"EAST"}`, // an old client's proto name
			want: map[string]any{"customer.customer_id": 3.0, "customer.customer_number": "0000000002", "customer.status": "INACTIVE"}},
		{name: "create, number taken", method: "POST", path: "/v1/customers", status: 409,
			body: `{"customer_number":"0000000100","name":"Taken","status":"CUSTOMER_STATUS_ACTIVE"}`, want: map[string]any{"code": 6.0}},
		{name: "create, rule broken", method: "POST", path: "/v1/customers", status: 400,
			body: `{"name":"Acme","status":"CUSTOMER_STATUS_ACTIVE","credit_limit":"-1"}`, want: map[string]any{"code": 3.0}},
		{name: "create, territory unknown", method: "POST", path: "/v1/customers", status: 400,
			body: `{"status":"CUSTOMER_STATUS_ACTIVE","territory":"MARS"}`, want: map[string]any{"code": 3.0, "details.0.field_violations.0.field": "customer.territory"}},
		{name: "create, unknown JSON field", method: "POST", path: "/v1/customers", status: 400,
			body: `{"status":"CUSTOMER_STATUS_ACTIVE","colour":"red"}`, want: map[string]any{"code": 3.0}},

		{name: "get", method: "GET", path: "/v1/customers/1", status: 200, want: map[string]any{"customer.name": "Acme", "customer.customer_key": "acme1"}},
		{name: "get unknown", method: "GET", path: "/v1/customers/99", status: 404, want: map[string]any{"code": 5.0}},
		{name: "get another tenant's id", method: "GET", path: "/v1/customers/4", status: 404, want: map[string]any{"code": 5.0}},
		{name: "get id not a number", method: "GET", path: "/v1/customers/abc", status: 400, want: map[string]any{"code": 3.0}},
		{name: "get id zero", method: "GET", path: "/v1/customers/0", status: 400, want: map[string]any{"code": 3.0}},

		{name: "lookup by key", method: "GET", path: "/v1/customers:lookup?customer_key=acme1", status: 200, want: map[string]any{"customer.customer_id": 1.0}},
		{name: "lookup by number", method: "GET", path: "/v1/customers:lookup?customer_number=0000000100", status: 200, want: map[string]any{"customer.customer_id": 2.0}},
		{name: "lookup by name", method: "GET", path: "/v1/customers:lookup?name=" + url.QueryEscape("Acme West"), status: 200, want: map[string]any{"customer.customer_id": 2.0}},
		{name: "lookup by an ambiguous name", method: "GET", path: "/v1/customers:lookup?name=Acme", status: 400, want: map[string]any{"code": 9.0}},
		{name: "lookup by nothing", method: "GET", path: "/v1/customers:lookup", status: 400, want: map[string]any{"code": 3.0}},

		{name: "update, mask from the body", method: "PATCH", path: "/v1/customers/1", body: `{"name":"Acme Corp","terms":"NET 45"}`, status: 200,
			want: map[string]any{"customer.name": "Acme Corp", "customer.terms": "NET 45", "customer.territory": "EAST", "customer.credit_limit": "1500.5", "customer.version": "2"}},
		{name: "update, explicit mask", method: "PATCH", path: "/v1/customers/1?update_mask=territory", body: `{"territory":"WEST","name":"ignored"}`, status: 200,
			want: map[string]any{"customer.name": "Acme Corp", "customer.territory": "WEST", "customer.version": "3"}},
		{name: "update, current version", method: "PATCH", path: "/v1/customers/1", body: `{"version":"3","phone":"555"}`, status: 200,
			want: map[string]any{"customer.phone": "555", "customer.version": "4"}},
		{name: "update, stale version", method: "PATCH", path: "/v1/customers/1?update_mask=phone", body: `{"version":"3","phone":"556"}`, status: 409,
			want: map[string]any{"code": 10.0}},
		{name: "update, rule broken", method: "PATCH", path: "/v1/customers/1", body: `{"credit_status":"MAYBE"}`, status: 400, want: map[string]any{"code": 3.0}},
		{name: "update another tenant's customer", method: "PATCH", path: "/v1/customers/4", body: `{"name":"Stolen"}`, status: 404, want: map[string]any{"code": 5.0}},

		{name: "list, filtered and paged", method: "GET", path: "/v1/customers?territory=EAST&page_size=1", status: 200,
			want: map[string]any{"customers.0.customer_id": 3.0, "next_page_token": ""}},
		{name: "list by status", method: "GET", path: "/v1/customers?status=QUOTE", status: 200,
			want: map[string]any{"customers.0.customer_id": 2.0, "customers.0.status": "QUOTE", "customers.1": nil}},
		{name: "list by name prefix", method: "GET", path: "/v1/customers?name_prefix=Acme&page_size=2", status: 200,
			want: map[string]any{"customers.0.customer_id": 1.0, "customers.1.customer_id": 2.0}},
		{name: "list, negative page size", method: "GET", path: "/v1/customers?page_size=-1", status: 400, want: map[string]any{"code": 3.0}},
		{name: "list, bad token", method: "GET", path: "/v1/customers?page_token=nonsense", status: 400, want: map[string]any{"code": 3.0}},

		{name: "extended, create by patch", method: "PATCH", path: "/v1/customers/1/extended/1/2", body: `{"field1":"one","field7":"seven"}`, status: 200,
			want: map[string]any{"extended.customer_id": 1.0, "extended.extended_group_id": 1.0, "extended.customer_extended_id": 2.0,
				"extended.fields.field1": "one", "extended.fields.field7": "seven", "extended.fields.field2": "", "extended.version": "1"}},
		{name: "extended, patch one field", method: "PATCH", path: "/v1/customers/1/extended/1/2", body: `{"field7":"SEVEN"}`, status: 200,
			want: map[string]any{"extended.fields.field1": "one", "extended.fields.field7": "SEVEN", "extended.version": "2"}},
		{name: "extended, second record", method: "PATCH", path: "/v1/customers/1/extended/2/1?update_mask=field3", body: `{"field3":"x","field4":"ignored"}`, status: 200,
			want: map[string]any{"extended.fields.field3": "x", "extended.fields.field4": ""}},
		{name: "extended, get", method: "GET", path: "/v1/customers/1/extended/1/2", status: 200, want: map[string]any{"extended.fields.field7": "SEVEN"}},
		{name: "extended, list", method: "GET", path: "/v1/customers/1/extended", status: 200,
			want: map[string]any{"extended.0.extended_group_id": 1.0, "extended.1.extended_group_id": 2.0, "extended.2": nil}},
		{name: "extended, list one group", method: "GET", path: "/v1/customers/1/extended?extended_group_id=2", status: 200,
			want: map[string]any{"extended.0.customer_extended_id": 1.0, "extended.1": nil}},
		{name: "extended, get unknown", method: "GET", path: "/v1/customers/1/extended/9/9", status: 404, want: map[string]any{"code": 5.0}},
		{name: "extended, field too long", method: "PATCH", path: "/v1/customers/1/extended/1/2", body: fmt.Sprintf(`{"field1":"%04001d"}`, 0), status: 400,
			want: map[string]any{"code": 3.0}},
		{name: "extended, another tenant's customer", method: "PATCH", path: "/v1/customers/4/extended/1/1", body: `{"field1":"x"}`, status: 404,
			want: map[string]any{"code": 5.0}},
		{name: "extended, list of another tenant's customer", method: "GET", path: "/v1/customers/4/extended", status: 404, want: map[string]any{"code": 5.0}},
	}
	for _, c := range calls {
		ok := t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			code, v := call(t, c.method, c.path, auth, body)
			if code != c.status {
				t.Fatalf("HTTP %d, want %d: %v", code, c.status, v)
			}
			if code != 200 {
				if _, ok := field(v, "message").(string); !ok {
					t.Errorf("error is not a google.rpc.Status: %v", v)
				}
			}
			for path, want := range c.want {
				if got := field(v, splitPath(path)...); got != want {
					t.Errorf("%s = %#v, want %#v (answer %v)", path, got, want, v)
				}
			}
		})
		if !ok {
			return
		}
	}

	// Keyset pagination: the pages of a filtered list hold every match
	// once, in id order.
	var ids []float64
	path := "/v1/customers?name_prefix=Acme&page_size=2"
	for pages := 0; ; pages++ {
		if pages == 5 {
			t.Fatal("pagination does not end")
		}
		code, v := call(t, "GET", path, auth, nil)
		if code != 200 {
			t.Fatalf("list: %d %v", code, v)
		}
		list, _ := field(v, "customers").([]any)
		for _, c := range list {
			ids = append(ids, field(c, "customer_id").(float64))
		}
		token, _ := field(v, "next_page_token").(string)
		if token == "" {
			break
		}
		path = "/v1/customers?name_prefix=Acme&page_size=2&page_token=" + url.QueryEscape(token)
	}
	if !slices.Equal(ids, []float64{1, 2, 3}) {
		t.Errorf("paged ids %v, want [1 2 3]", ids)
	}
}

// splitPath turns "customers.0.name" into field's keys and indexes.
func splitPath(p string) []any {
	var out []any
	for part := range strings.SplitSeq(p, ".") {
		if i, err := strconv.Atoi(part); err == nil {
			out = append(out, i)
		} else {
			out = append(out, part)
		}
	}
	return out
}
