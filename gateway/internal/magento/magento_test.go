package magento

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
)

func TestHistoryRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		ok         bool
		customer   int32
		website    *int32
	}{
		{"customer", "/api/rest/customers/4/storecredit/history", true, 4, nil},
		{"trailing slash", "/api/rest/customers/4/storecredit/history/", true, 4, nil},
		{"website", "/api/rest/customers/4/storecredit/history?website_id=2", true, 4, ptr(2)},
		{"website any case", "/api/rest/customers/4/storecredit/history?Website_Id=0", true, 4, ptr(0)},
		{"empty website", "/api/rest/customers/4/storecredit/history?website_id=", true, 4, nil},
		{"largest id", "/api/rest/customers/2147483647/storecredit/history", true, 2147483647, nil},
		{"id beyond int32", "/api/rest/customers/2147483648/storecredit/history", false, 0, nil},
		{"zero id", "/api/rest/customers/0/storecredit/history", false, 0, nil},
		{"negative id", "/api/rest/customers/-4/storecredit/history", false, 0, nil},
		{"signed id", "/api/rest/customers/+4/storecredit/history", false, 0, nil},
		{"id with space", "/api/rest/customers/4%20/storecredit/history", false, 0, nil},
		{"non-numeric id", "/api/rest/customers/four/storecredit/history", false, 0, nil},
		{"negative website", "/api/rest/customers/4/storecredit/history?website_id=-1", false, 0, nil},
		{"non-numeric website", "/api/rest/customers/4/storecredit/history?website_id=x", false, 0, nil},
		{"website twice", "/api/rest/customers/4/storecredit/history?website_id=1&WEBSITE_ID=2", false, 0, nil},
		{"bad query", "/api/rest/customers/4/storecredit/history?website_id=%zz", false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			id, routed := historyRoute(r.URL.Path)
			if !routed {
				t.Fatalf("%s not routed", tc.path)
			}
			req, ok := historyRequest(id, r)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if req.GetCustomerId() != tc.customer || (tc.website == nil) != (req.WebsiteId == nil) ||
				(tc.website != nil && *tc.website != req.GetWebsiteId()) {
				t.Errorf("request = %v", req)
			}
		})
	}
	for _, path := range []string{"/api/rest/customers//storecredit/history", "/api/rest/customers/4/storecredit", "/api/rest/Customers/4/storecredit/history"} {
		if _, ok := historyRoute(path); ok {
			t.Errorf("%s routed", path)
		}
	}
}

func ptr(n int32) *int32 { return &n }

// The seed's second item, rendered from a history entry.
func TestRender(t *testing.T) {
	t.Parallel()
	e := &historyv1.HistoryEntry{
		HistoryId: 2, BalanceId: 1, UpdateTime: timestamppb.New(time.Date(2012, 4, 6, 15, 50, 33, 999, time.FixedZone("CEST", 7200))),
		Action: 1, Kind: "STORE_CREDIT", BalanceAmount: "300.00", BalanceDelta: "-200", AdditionalInfo: "By admin: john@example.com. (update balance)",
		CustomerId: 4, WebsiteId: 2, Currency: "USD",
	}
	want := historyItem{HistoryID: "2", BalanceID: "1", UpdatedAt: "2012-04-06 13:50:33", Action: "1", BalanceAmount: "300.0000",
		BalanceDelta: "-200.0000", AdditionalInfo: "By admin: john@example.com. (update balance)", IsCustomerNotified: "0",
		CustomerID: "4", WebsiteID: "2", BaseCurrencyCode: "USD"}
	if diff := cmp.Diff(want, render(e)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
	e.CustomerNotified = true
	if got := render(e).IsCustomerNotified; got != "1" {
		t.Errorf("notified = %q, want 1", got)
	}
}

func TestFourDecimals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"500": "500.0000", "-200.5": "-200.5000", "0": "0.0000", "1.23456": "1.23456", "0.0001": "0.0001", "12.3400": "12.3400",
	} {
		if got := fourDecimals(in); got != want {
			t.Errorf("fourDecimals(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzHistoryRequest: the path and query are outside input; no input makes
// the parser panic, and what it accepts is a valid request.
func FuzzHistoryRequest(f *testing.F) {
	f.Add("4", "website_id=2")
	f.Add("0", "")
	f.Add("-1", "website_id=-1")
	f.Add("99999999999", "WEBSITE_ID=1&website_id=1")
	f.Fuzz(func(t *testing.T, id, rawQuery string) {
		r := httptest.NewRequest("GET", "/api/rest/customers/1/storecredit/history", nil)
		r.URL.RawQuery = rawQuery
		req, ok := historyRequest(id, r)
		if !ok {
			return
		}
		if req.GetCustomerId() <= 0 || strconv.Itoa(int(req.GetCustomerId())) == "" || (req.WebsiteId != nil && req.GetWebsiteId() < 0) {
			t.Errorf("accepted %q %q as %v", id, rawQuery, req)
		}
	})
}
