package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// websiteId, the seed's own argument name, filters the store-credit history
// as website_id does, in any case; both names with two values are fault 100.
func TestMagentoHistoryWebsiteID(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctx := tenancy.WithTenant(t.Context(), tc.id)
	id := c.historyCreateCustomers(t, ctx, 1)[0]
	c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: id, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 2, Amount: "500"})
	last := c.historyPost(t, ctx, &ledgerv1.Posting{CustomerId: id, Currency: "USD", WebsiteId: 3, Kind: "STORE_CREDIT", Action: 2, Amount: "70"})
	c.historyAwait(t, ctx, last)
	auth := basicHeader(tc.magentoUser, tc.magentoKey)
	path := "/api/rest/customers/" + strconv.Itoa(int(id)) + "/storecredit/history"

	tests := []struct {
		name, query string
		status      int
		websites    []string // website_id of each row, newest first
	}{
		{"no filter", "", 200, []string{"3", "2"}},
		{"websiteId", "?websiteId=2", 200, []string{"2"}},
		{"websiteId any case", "?WEBSITEID=3", 200, []string{"3"}},
		{"website_id", "?website_id=3", 200, []string{"3"}},
		{"both names, one value", "?website_id=2&websiteId=2", 200, []string{"2"}},
		{"both names, two values", "?website_id=2&websiteId=3", 400, nil},
		{"websiteId not a number", "?websiteId=two", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := sendHeader(t, sys.gateway, "GET", path+tt.query, auth, "")
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status == 400 {
				if field(a.json, "messages", "error", 0, "code") != 100.0 {
					t.Errorf("got %s, want fault 100", a.body)
				}
				return
			}
			rows, _ := a.json.([]any)
			var got []string
			for _, r := range rows {
				got = append(got, fmt.Sprint(field(r, "website_id")))
			}
			if !slices.Equal(got, tt.websites) {
				t.Errorf("websites %v, want %v", got, tt.websites)
			}
		})
	}
}
