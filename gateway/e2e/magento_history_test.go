package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// The -update flag rewrites golden files with the answers received. It is
// registered only if another test file of the package has not done so.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files with the answers received")
	}
}

func magentoUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// magentoVolatile are the keys whose values depend on the run (ids from
// sequences, the posting time); the golden comparison checks their type and
// shape, not their value.
var magentoVolatile = map[string]*regexp.Regexp{
	"history_id": regexp.MustCompile(`^[1-9][0-9]*$`),
	"balance_id": regexp.MustCompile(`^[1-9][0-9]*$`),
	"updated_at": regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$`),
}

// magentoCompareGolden compares a JSON answer with a golden file
// semantically: the same array length, the same keys in each object, the
// same JSON type of each value, and the same value except for the volatile
// keys, which must have their shape.
func magentoCompareGolden(t *testing.T, name string, raw []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if magentoUpdateGolden() {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("answer is not JSON: %s", raw)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		if err := os.WriteFile(path, append(pretty, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	var want, got []map[string]any
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("answer is not a JSON array of objects: %v\n%s", err, raw)
	}
	if len(got) != len(want) {
		t.Fatalf("%d items, golden has %d:\n%s", len(got), len(want), raw)
	}
	for i := range want {
		wk, gk := slices.Sorted(maps.Keys(want[i])), slices.Sorted(maps.Keys(got[i]))
		if !slices.Equal(wk, gk) {
			t.Errorf("item %d keys = %v, golden %v", i, gk, wk)
			continue
		}
		for _, k := range wk {
			w, g := want[i][k], got[i][k]
			if fmt.Sprintf("%T", w) != fmt.Sprintf("%T", g) {
				t.Errorf("item %d %s: JSON type %T, golden %T", i, k, g, w)
				continue
			}
			if re, ok := magentoVolatile[k]; ok {
				if !re.MatchString(fmt.Sprint(g)) {
					t.Errorf("item %d %s = %q, not of the form %s", i, k, g, re)
				}
				continue
			}
			if w != g {
				t.Errorf("item %d %s = %#v, golden %#v", i, k, g, w)
			}
		}
	}
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
		magentoCompareGolden(t, "magento_history.golden.json", raw)
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
