package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// post posts through the native API and fails the test on any error.
func post(t *testing.T, auth map[string]string, customerID int32, body string) {
	t.Helper()
	code, v := call(t, "POST", fmt.Sprintf("/v1/customers/%d/entries", customerID), auth, []byte(body))
	if code != 200 {
		t.Fatalf("post %s: %d %v", body, code, v)
	}
}

// The seed's GetCustomerBalances example and the errors around it. The
// example sends customerID and customerKey together, which the seed says
// raises an exception: as written it is a 400. By either identifier alone
// it answers a row per currency, balances summed over websites, each a JSON
// number with the currency's exact digits.
func TestExigoGetCustomerBalancesSeed(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	auth := basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	if id := createNative(t, native, `{"name":"One","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"1"}`); id != 1 {
		t.Fatalf("first customer has id %d, want 1", id)
	}
	createNative(t, native, `{"name":"Two, no entries","status":"CUSTOMER_STATUS_ACTIVE"}`)
	other := newTenant(t)
	otherNative := basicAuth(other.magentoUser, other.magentoKey)
	for i := range 3 {
		createNative(t, otherNative, fmt.Sprintf(`{"name":"Theirs %d","status":"CUSTOMER_STATUS_ACTIVE"}`, i))
	}
	post(t, otherNative, 3, `{"currency":"USD","kind":"PAYMENT","amount":"9.99"}`)

	post(t, native, 1, `{"currency":"USD","kind":"PAYMENT","amount":"100.00"}`)
	post(t, native, 1, `{"currency":"USD","kind":"ORDER","amount":"25.50"}`)
	post(t, native, 1, `{"currency":"USD","kind":"ADJUSTMENT","amount":"-1.25","website_id":2}`)
	post(t, native, 1, `{"currency":"JPY","kind":"STORE_CREDIT","action":2,"amount":"500"}`)
	post(t, native, 1, `{"currency":"BHD","kind":"PAYMENT","amount":"1.250"}`)

	result := map[string]*regexp.Regexp{"/result/transactionKey": reUUID}
	deviate := map[string]bool{"/customerBalances": true, "/result": true}
	steps := []struct {
		name, query string
		header      map[string]string
		status      int
		g           golden
		digits      []string // exact JSON numbers the raw answer must hold
	}{
		{"example as written: both identifiers", "?customerID=1&customerKey=1", auth, 400,
			golden{file: "exigo_balances_both_ids", volatile: result}, nil},
		{"by customerID", "?customerID=1", auth, 200,
			golden{file: "exigo_balances_ok", volatile: result, seed: "exigo_balances_ok", seedDeviate: deviate},
			[]string{`"balance":1.250`, `"balance":500`, `"balance":73.25`}},
		{"by customerKey, names case-insensitive", "?CUSTOMERKEY=1", auth, 200,
			golden{file: "exigo_balances_ok", volatile: result, seed: "exigo_balances_ok", seedDeviate: deviate}, nil},
		{"no entries", "?customerID=2", auth, 200,
			golden{file: "exigo_balances_empty", volatile: result, seed: "exigo_balances_ok", seedDeviate: deviate}, nil},
		{"neither identifier", "", auth, 400, golden{file: "exigo_balances_neither_id", volatile: result}, nil},
		{"not a number", "?customerID=abc", auth, 400, golden{file: "exigo_balances_bad_id", volatile: result}, nil},
		{"unknown customer", "?customerID=99", auth, 404, golden{file: "exigo_balances_unknown", volatile: result}, nil},
		{"another tenant's customer", "?customerID=3", auth, 404, golden{file: "exigo_balances_other_tenant", volatile: result}, nil},
		{"unknown key", "?customerKey=nobody", auth, 404, golden{file: "exigo_balances_unknown_key", volatile: result}, nil},
		{"wrong password", "?customerID=1", basicAuth(tc.exigoLogin+"@"+tc.company, "wrong"), 401,
			golden{file: "exigo_balances_unauthorized", volatile: result}, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			a := send(t, "GET", "/3.0/customers/balances"+s.query, s.header, nil).wantStatus(t, s.status)
			s.g.check(t, a)
			compact := strings.Join(strings.Fields(string(a.body)), "")
			for _, d := range s.digits {
				if !strings.Contains(compact, d) {
					t.Errorf("answer lacks %s: %s", d, a.body)
				}
			}
		})
	}
}

// The seed's Client Balance example and its one error: every invalid or
// unknown ClientID is status 2, MessageID 10009, HTTP 200; live and sandbox
// keys see separate data.
func TestIgsendClientBalanceSeed(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	live := basicAuth(tc.igsendPublic, tc.igsendPrivate)
	sandbox := basicAuth(tc.sandboxPublic, tc.sandboxPrivate)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	id := createNative(t, native, `{"name":"Client","status":"CUSTOMER_STATUS_ACTIVE"}`)
	empty := createNative(t, native, `{"name":"No entries","status":"CUSTOMER_STATUS_ACTIVE"}`)
	two := createNative(t, native, `{"name":"Two currencies","status":"CUSTOMER_STATUS_ACTIVE"}`)
	post(t, native, id, `{"currency":"GBP","kind":"PAYMENT","amount":"14000.00"}`)
	post(t, native, two, `{"currency":"GBP","kind":"PAYMENT","amount":"10.00"}`)
	post(t, native, two, `{"currency":"USD","kind":"ORDER","amount":"5.00"}`)

	noAccount := golden{file: "igsend_no_account"}
	steps := []struct {
		name, path string
		header     map[string]string
		status     int
		g          golden
	}{
		{"a client with balances", fmt.Sprintf("/services/clientbalance/?ClientID=%d", id), live, 200,
			golden{file: "igsend_balance_ok", seed: "igsend_balance_ok"}},
		{"without the slash, name in another case", fmt.Sprintf("/services/clientbalance?clientid=%d", id), live, 200,
			golden{file: "igsend_balance_ok", seed: "igsend_balance_ok"}},
		{"a row per currency; a negative balance is OVERDRAWN", fmt.Sprintf("/services/clientbalance/?ClientID=%d", two), live, 200,
			golden{file: "igsend_balance_two_currencies"}},
		{"the seed's example: an unknown client", "/services/clientbalance/?ClientID=123456", live, 200, noAccount},
		{"missing", "/services/clientbalance/", live, 200, noAccount},
		{"empty", "/services/clientbalance/?ClientID=", live, 200, noAccount},
		{"zero", "/services/clientbalance/?ClientID=0", live, 200, noAccount},
		{"not a number", "/services/clientbalance/?ClientID=abc", live, 200, noAccount},
		{"negative", "/services/clientbalance/?ClientID=-5", live, 200, noAccount},
		{"no balance account", fmt.Sprintf("/services/clientbalance/?ClientID=%d", empty), live, 200, noAccount},
		{"sandbox keys see the sandbox only", fmt.Sprintf("/services/clientbalance/?ClientID=%d", id), sandbox, 200, noAccount},
		{"wrong private key", fmt.Sprintf("/services/clientbalance/?ClientID=%d", id), basicAuth(tc.igsendPublic, "wrong"), 401,
			golden{file: "igsend_unauthorized"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			a := send(t, "GET", s.path, s.header, nil).wantStatus(t, s.status)
			s.g.check(t, a)
		})
	}
}
