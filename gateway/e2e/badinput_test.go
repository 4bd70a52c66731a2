package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// snapshot is every customer, extended record and counter of the tenants,
// as JSON text, in a fixed order.
func snapshot(t *testing.T, tenants ...string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), sys.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `
		SELECT 'customer ' || to_jsonb(c)::text FROM customer.customers c WHERE tenant_id = ANY($1::uuid[])
		UNION ALL
		SELECT 'extended ' || to_jsonb(x)::text FROM customer.customer_extended x WHERE tenant_id = ANY($1::uuid[])
		UNION ALL
		SELECT 'counter ' || to_jsonb(n)::text FROM customer.counters n WHERE tenant_id = ANY($1::uuid[])
		ORDER BY 1`, tenants)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// badRequest is a malformed request and the refusal it must get.
type badRequest struct {
	name         string
	method, path string
	body         string
	status       int
	// mention must appear in the refusal's message: the parameter's name
	// (or, for the seed's fixed messages, their words).
	mention string
}

const big = 2 << 20 // over the gateway's 1 MiB body limit

// Malformed requests across the two dialects each get the dialect's own
// error shape, with a message naming the parameter, and change nothing:
// the customers, extended records and counters of both tenants read back
// the same afterwards.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t), newTenant(t)
	// Tenant A: customer 1 (number 0000000001, key alpha) with an extended
	// record. Tenant B: customers 1 and 2 (numbers 0000000001 and
	// 0000000002, key bravo on 2).
	nativeA, nativeB := basicAuth(a.magentoUser, a.magentoKey), basicAuth(b.magentoUser, b.magentoKey)
	createNative(t, nativeA, `{"name":"Alpha","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"alpha"}`)
	createNative(t, nativeB, `{"name":"Bravo","status":"CUSTOMER_STATUS_ACTIVE"}`)
	createNative(t, nativeB, `{"name":"Bravo 2","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"bravo"}`)
	exigoA := basicAuth(a.exigoLogin+"@"+a.company, a.exigoPassword)
	send(t, "PATCH", "/3.0/customers/extended", exigoA, []byte(`{"customerID":1,"extendedGroupID":1,"customerExtendedID":1,"field1":"kept"}`)).wantStatus(t, 200)

	add, edit, get := "/API/Customer/Add/"+a.manexKey, "/API/Customer/Edit/"+a.manexKey, "/API/Customer/Get/"+a.manexKey
	ok := "Custname=New&Status=Active&"
	ext := func(extra string) string {
		return `{"customerID":1,"extendedGroupID":1,"customerExtendedID":1` + extra + `}`
	}
	manex := []badRequest{
		{name: "add status in lower case", path: add + "?Custname=New&Status=active", mention: "Status must be one of Active, Inactive, Quote."},
		{name: "add status in upper case", path: add + "?Custname=New&Status=ACTIVE", mention: "Status"},
		{name: "add status missing", path: add + "?Custname=New", mention: "Status is required."},
		{name: "add status a number", method: "POST", path: add, body: `{"Custname":"New","Status":1}`, mention: "Status"},
		{name: "add custname missing", path: add + "?Status=Active", mention: "Custname is required."},
		{name: "add custname blank", path: add + "?Custname=%20%20&Status=Active", mention: "Custname"},
		{name: "add custname overlong", path: add + "?Status=Active&Custname=" + strings.Repeat("x", 51), mention: "Custname must be at most 50 characters."},
		{name: "add custname invalid UTF-8 in the query", path: add + "?Status=Active&Custname=%C3%28", mention: "Custname must be valid UTF-8."},
		{name: "add custname invalid UTF-8 in the body", method: "POST", path: add, body: "{\"Custname\":\"\xc3\x28\",\"Status\":\"Active\"}", mention: "Custname must be valid UTF-8."},
		{name: "add custname an object", method: "POST", path: add, body: `{"Custname":{"first":"New"},"Status":"Active"}`, mention: "Custname"},
		{name: "add phone overlong", path: add + "?" + ok + "Phone=" + strings.Repeat("5", 20), mention: "Phone"},
		{name: "add fax with NUL", path: add + "?" + ok + "Fax=1%002", mention: "Fax"},
		{name: "add territory unknown", path: add + "?" + ok + "Territory=MARS", mention: "Territory must be one of"},
		{name: "add territory in lower case", path: add + "?" + ok + "Territory=new%20england", mention: "Territory"},
		{name: "add terms unknown", path: add + "?" + ok + "Terms=NET%2060", mention: "Terms must be one of"},
		{name: "add terms in lower case", path: add + "?" + ok + "Terms=net%2030", mention: "Terms"},
		{name: "add credlimit negative", path: add + "?" + ok + "Credlimit=-1", mention: "Credlimit must be a number greater than or equal to 0."},
		{name: "add credlimit text", path: add + "?" + ok + "Credlimit=lots", mention: "Credlimit"},
		{name: "add credlimit a boolean", method: "POST", path: add, body: `{"Custname":"New","Status":"Active","Credlimit":true}`, mention: "Credlimit"},
		{name: "add credlimit five decimals", path: add + "?" + ok + "Credlimit=1.00001", mention: "Credlimit"},
		{name: "add credlimit too large", path: add + "?" + ok + "Credlimit=1000000000000000", mention: "Credlimit"},
		{name: "add ar_highbal negative", method: "POST", path: add, body: `{"Custname":"New","Status":"Active","Ar_highBal":-0.01}`, mention: "Ar_highBal"},
		{name: "add creditok in lower case", path: add + "?" + ok + "Creditok=ok", mention: "Creditok must be one of OK, HOLD, REJECT."},
		{name: "add acct_date 02/30/2024", path: add + "?" + ok + "Acct_date=02/30/2024", mention: "Acct_date must be a valid date in MM/DD/YYYY format."},
		{name: "add acct_date ISO", path: add + "?" + ok + "Acct_date=2024-01-01", mention: "Acct_date"},
		{name: "add acctaxable yes", path: add + "?" + ok + "Acctaxable=yes", mention: "Acctaxable must be true or false."},
		{name: "add saledsctid overlong", path: add + "?" + ok + "Saledsctid=" + strings.Repeat("s", 11), mention: "Saledsctid"},
		{name: "add custno of five digits", path: add + "?" + ok + "Custno=12345", mention: "Custno must be ten digits."},
		{name: "add custno taken", path: add + "?" + ok + "Custno=0000000001", mention: "Custno"},
		{name: "add parameter twice", path: add + "?" + ok + "STATUS=Quote", mention: "Status is given more than once."},
		{name: "add bad escape", path: add + "?" + ok + "Phone=%zz", mention: "Phone is not URL-encoded correctly."},
		{name: "add body not JSON", method: "POST", path: add, body: `{"Custname":`, mention: "Object reference not set"},
		{name: "add body oversized", method: "POST", path: add, body: `{"Custname":"` + strings.Repeat("x", big) + `"}`, status: 413, mention: "body"},
		{name: "edit without custno", path: edit + "?Custname=X", mention: "Customer Number or Customer Name is Required"},
		{name: "edit custno of five digits", path: edit + "?Custno=12345&Custname=X", mention: "Custno must be ten digits."},
		{name: "edit status in lower case", path: edit + "?Custno=0000000001&Status=active", mention: "Status"},
		{name: "edit inactdt 02/30/2024", path: edit + "?Custno=0000000001&Inactdt=02/30/2024", mention: "Inactdt"},
		{name: "edit modifieddate ISO", path: edit + "?Custno=0000000001&modifieddate=2024-01-01", mention: "modifieddate"},
		{name: "edit acct_date ISO date alone", path: edit + "?Custno=0000000001&Acct_date=2024-01-01", mention: "Acct_date"},
		{name: "edit credlimit negative", method: "POST", path: edit, body: `{"Custno":"0000000001","Credlimit":"-5"}`, mention: "Credlimit"},
		{name: "edit inactinit overlong", path: edit + "?Custno=0000000001&Inactinit=ABCDEFGHI", mention: "Inactinit"},
		{name: "edit a customer of another tenant", path: edit + "?Custno=0000000002&Custname=Stolen", mention: "Customer does not exists."},
		{name: "get custnumorname empty", path: get + "?CustNumOrName=", mention: "CustNumOrName is required."},
		{name: "get custnumorname overlong", path: get + "?CustNumOrName=" + strings.Repeat("n", 51), mention: "CustNumOrName"},
		{name: "get a customer of another tenant", path: get + "?CustNumOrName=Bravo", mention: "Customer does not exists."},
	}
	exigo := []badRequest{
		{name: "both customerID and customerKey", body: `{"customerID":1,"customerKey":"alpha","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID or customerKey"},
		{name: "neither customerID nor customerKey", body: `{"extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID or customerKey is required."},
		{name: "customerID text", body: `{"customerID":"abc","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID must be a positive whole number."},
		{name: "customerID negative", body: `{"customerID":-1,"extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID"},
		{name: "customerID a fraction", body: `{"customerID":1.5,"extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID"},
		{name: "customerID past Int32", body: `{"customerID":2147483648,"extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerID"},
		{name: "extendedGroupID missing", body: `{"customerID":1,"customerExtendedID":1,"field1":"x"}`, mention: "extendedGroupID is required."},
		{name: "extendedGroupID zero", body: `{"customerID":1,"extendedGroupID":0,"customerExtendedID":1,"field1":"x"}`, mention: "extendedGroupID"},
		{name: "customerExtendedID a boolean", body: `{"customerID":1,"extendedGroupID":1,"customerExtendedID":true,"field1":"x"}`, mention: "customerExtendedID"},
		{name: "field1 a number", body: ext(`,"field1":5`), mention: "field1 must be a string."},
		{name: "field2 overlong", body: ext(`,"field2":"` + strings.Repeat("x", 4001) + `"`), mention: "field2 must be at most 4000 characters."},
		{name: "field3 invalid UTF-8", body: ext(",\"field3\":\"\xff\xfe\""), mention: "field3 must be valid UTF-8."},
		{name: "field31", body: ext(`,"field31":"x"`), mention: "field31"},
		{name: "field1 twice in two cases", body: ext(`,"field1":"a","FIELD1":"b"`), mention: "FIELD1 is given more than once."},
		{name: "body not JSON", body: `customerID=1`, mention: "body"},
		{name: "body an array", body: `[` + ext("") + `]`, mention: "body"},
		{name: "body oversized", body: ext(`,"field1":"` + strings.Repeat("x", big) + `"`), status: 413, mention: "body"},
		{name: "customerID of another tenant", body: `{"customerID":2,"extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, status: 404, mention: "customerID 2"},
		{name: "customerKey of another tenant", body: `{"customerKey":"bravo","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, status: 404, mention: "customerKey"},
		{name: "customerKey with a space", body: `{"customerKey":"al pha","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerKey"},
		{name: "customerKey overlong", body: `{"customerKey":"` + strings.Repeat("k", 51) + `","extendedGroupID":1,"customerExtendedID":1,"field1":"x"}`, mention: "customerKey"},
	}

	before := snapshot(t, a.id, b.id)
	t.Run("requests", func(t *testing.T) {
		for _, r := range manex {
			t.Run("manex/"+r.name, func(t *testing.T) {
				t.Parallel()
				checkManexRefusal(t, r.send(t, nil), r)
			})
		}
		for _, r := range exigo {
			t.Run("exigo/"+r.name, func(t *testing.T) {
				t.Parallel()
				checkExigoRefusal(t, send(t, "PATCH", "/3.0/customers/extended", exigoA, []byte(r.body)), r)
			})
		}
	})
	if n := len(manex) + len(exigo); n < 40 {
		t.Errorf("only %d malformed requests", n)
	}
	if diff := cmp.Diff(before, snapshot(t, a.id, b.id)); diff != "" {
		t.Errorf("malformed requests changed the database (-before +after):\n%s", diff)
	}
}

// checkManexRefusal: the envelope with Code 403 in an HTTP 200 answer, or,
// for what never reaches an action (an oversized body), Web API's error
// object with the HTTP status.
func checkManexRefusal(t *testing.T, a answer, r badRequest) {
	t.Helper()
	want := r.status
	if want == 0 {
		want = 200
	}
	if a.status != want {
		t.Fatalf("HTTP %d, want %d: %.300s", a.status, want, a.body)
	}
	n, err := parseNode(a.body)
	if err != nil || n.kind != "object" {
		t.Fatalf("not a JSON object: %.300s", a.body)
	}
	keys := []string{"$id", "Code", "Message", "SessionId", "IsValidUser", "ResponseObject"}
	if a.status != 200 {
		keys = []string{"$id", "Message"}
	}
	if diff := cmp.Diff(keys, n.keys); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
	if a.status == 200 {
		code, _ := n.members["Code"].scalar.(json.Number)
		if code != "403" || n.members["ResponseObject"].kind != "null" || n.members["IsValidUser"].scalar != true {
			t.Errorf("envelope: Code %v, ResponseObject %s, IsValidUser %v", code, n.members["ResponseObject"].kind, n.members["IsValidUser"].scalar)
		}
	}
	msg, _ := n.members["Message"].scalar.(string)
	t.Logf("HTTP %d: %s", a.status, msg)
	if !strings.Contains(msg, r.mention) {
		t.Errorf("message %q does not mention %q", msg, r.mention)
	}
	if a.status == 200 && !strings.HasPrefix(msg, "Customer ") {
		t.Errorf("message %q is not MANEX's", msg)
	}
}

// checkExigoRefusal: a 4xx with {"result":{"status":"Failure","errors",
// "transactionKey"}} and an error naming the parameter.
func checkExigoRefusal(t *testing.T, a answer, r badRequest) {
	t.Helper()
	want := r.status
	if want == 0 {
		want = 400
	}
	if a.status != want {
		t.Fatalf("HTTP %d, want %d: %.300s", a.status, want, a.body)
	}
	var v struct {
		Result *struct {
			Status         string   `json:"status"`
			Errors         []string `json:"errors"`
			TransactionKey string   `json:"transactionKey"`
		} `json:"result"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil || v.Result == nil {
		t.Fatalf("not Exigo's shape: %.300s", a.body)
	}
	if v.Result.Status != "Failure" || !reUUID.MatchString(v.Result.TransactionKey) || len(v.Result.Errors) == 0 {
		t.Errorf("result %+v", *v.Result)
	}
	t.Logf("HTTP %d: %q", a.status, v.Result.Errors)
	if !strings.Contains(strings.Join(v.Result.Errors, " | "), r.mention) {
		t.Errorf("errors %q do not mention %q", v.Result.Errors, r.mention)
	}
}
