package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// magentoVolatile are the values that depend on the run (ids from
// sequences, the posting time): the golden comparison checks their type and
// shape, not their value.
var magentoVolatile = map[string]*regexp.Regexp{
	"/*/history_id": regexp.MustCompile(`^[1-9][0-9]*$`),
	"/*/balance_id": regexp.MustCompile(`^[1-9][0-9]*$`),
	"/*/updated_at": regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$`),
}

// The seed's example, reproduced: customer 4's store credit created at 500
// by action 2 on website 2, then updated by -200 by action 1, to 300.
func TestMagentoHistoryGolden(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctx := tenancy.WithTenant(t.Context(), tc.id)
	ids := c.historyCreateCustomers(t, ctx, 4) // a fresh tenant numbers its customers from 1
	if ids[3] != 4 {
		t.Fatalf("fourth customer is %d, want 4", ids[3])
	}
	created := c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 4, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 2,
		Amount: "500", Comment: "By admin: john@example.com. (new balance)"})
	updated := c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: 4, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 1,
		Amount: "-200", Comment: "By admin: john@example.com. (update balance)"})
	c.historyAwait(t, ctx, updated)
	auth := basicAuth(tc.magentoUser, tc.magentoKey)

	for _, path := range []string{"/api/rest/customers/4/storecredit/history", "/api/rest/customers/4/storecredit/history?website_id=2", "/api/rest/customers/4/storecredit/history?WEBSITE_ID=2"} {
		code, raw, err := httpDo(t.Context(), "GET", sys.gateway+path, auth, nil)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v %s", path, code, err, raw)
		}
		golden{file: "magento_history", volatile: magentoVolatile}.check(t, answer{status: code, body: raw})
		var items []map[string]string // every value a string
		if err := json.Unmarshal(raw, &items); err != nil {
			t.Fatalf("not every value is a string: %v", err)
		}
		if items[0]["history_id"] != strconv.FormatInt(updated.GetEntryId(), 10) || items[1]["history_id"] != strconv.FormatInt(created.GetEntryId(), 10) {
			t.Errorf("history ids %s, %s; want %d, %d (newest first)", items[0]["history_id"], items[1]["history_id"], updated.GetEntryId(), created.GetEntryId())
		}
		if items[0]["balance_id"] != items[1]["balance_id"] || items[0]["updated_at"] < items[1]["updated_at"] {
			t.Errorf("one balance, newest first: %v", items)
		}
	}
}

// Bad input in Magento's own fault shapes.
func TestMagentoHistoryFaults(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctx := tenancy.WithTenant(t.Context(), tc.id)
	ids := c.historyCreateCustomers(t, ctx, 2)
	c.historyAwait(t, ctx, c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: ids[0], Currency: "USD", WebsiteId: 1, Kind: "STORE_CREDIT", Action: 2, Amount: "10"}))
	auth := basicAuth(tc.magentoUser, tc.magentoKey)
	invalid := `{"messages":{"error":[{"code":100,"message":"Provided data is invalid."}]}}`
	none := `{"messages":{"error":[{"code":102,"message":"No history found with requested parameters."}]}}`
	with := func(id any, q string) string {
		return fmt.Sprintf("/api/rest/customers/%v/storecredit/history%s", id, q)
	}
	for _, tcase := range []struct {
		name, path string
		code       int
		body       string
	}{
		{"non-numeric customer", with("abc", ""), 400, invalid},
		{"negative customer", with(-4, ""), 400, invalid},
		{"customer zero", with(0, ""), 400, invalid},
		{"customer beyond int32", with("99999999999", ""), 400, invalid},
		{"negative website", with(ids[0], "?website_id=-1"), 400, invalid},
		{"non-numeric website", with(ids[0], "?website_id=two"), 400, invalid},
		{"website twice", with(ids[0], "?website_id=1&WEBSITE_ID=1"), 400, invalid},
		{"unknown customer", with(999999, ""), 404, none},
		{"customer without history", with(ids[1], ""), 404, none},
		{"website without history", with(ids[0], "?website_id=2"), 404, none},
	} {
		t.Run(tcase.name, func(t *testing.T) {
			code, raw, err := httpDo(t.Context(), "GET", sys.gateway+tcase.path, auth, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			_ = json.Unmarshal(raw, &got)
			_ = json.Unmarshal([]byte(tcase.body), &want)
			if code != tcase.code || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %d %s, want %d %s", tcase.path, code, raw, tcase.code, tcase.body)
			}
		})
	}
	code, raw, _ := httpDo(t.Context(), "GET", sys.gateway+with(ids[0], "?website_id=1"), auth, nil)
	if code != 200 {
		t.Errorf("website 1: %d %s", code, raw)
	}
}
