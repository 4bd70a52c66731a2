package magento

import (
	"net/http/httptest"
	"testing"
)

// The website is named website_id or websiteId (the seed's argument), in
// any case; both at once only with one value.
func TestHistoryRequestWebsiteID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query string
		ok          bool
		website     *int32
	}{
		{"websiteId", "websiteId=2", true, ptr(2)},
		{"websiteId any case", "WEBSITEID=3", true, ptr(3)},
		{"websiteId zero", "websiteid=0", true, ptr(0)},
		{"websiteId empty", "websiteId=", true, nil},
		{"both, one value", "website_id=2&websiteId=2", true, ptr(2)},
		{"both, two values", "website_id=1&websiteId=2", false, nil},
		{"both, one empty", "website_id=&websiteId=2", false, nil},
		{"websiteId twice in two spellings", "websiteId=1&WebsiteID=1", false, nil},
		{"websiteId not a number", "websiteId=x", false, nil},
		{"websiteId negative", "websiteId=-1", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/api/rest/customers/4/storecredit/history?"+tt.query, nil)
			req, ok := historyRequest("4", r)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (request %v)", ok, tt.ok, req)
			}
			if !ok {
				return
			}
			if (tt.website == nil) != (req.WebsiteId == nil) || tt.website != nil && *tt.website != req.GetWebsiteId() {
				t.Errorf("website = %v, want %v", req.WebsiteId, tt.website)
			}
		})
	}
}
