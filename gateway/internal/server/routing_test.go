package server

import "testing"

// TestRoute pins which API owns a path: Exigo and MANEX match any case, as
// their IIS servers do; igsend owns exactly its two spellings; Magento owns
// /api/rest/ as written; MANEX any other /api/ path; the gateway the rest.
func TestRoute(t *testing.T) {
	t.Parallel()
	g := newEnv(t, envOptions{}).handler.(*gateway)
	tests := []struct{ path, want string }{
		{"/v1/customers/42", "native"},
		{"/v1/", "native"},
		{"/V1/customers/42", ""},
		{"/v1", ""},
		{"/3.0/customers/balances", "exigo"},
		{"/3.0/Customers/Balances", "exigo"},
		{"/3.0/", "exigo"},
		{"/3.0", ""},
		{"/services/clientbalance/", "igsend"},
		{"/services/clientbalance", "igsend"},
		{"/Services/ClientBalance/", ""},
		{"/services/clientbalance/x", ""},
		{"/services/", ""},
		{"/api/rest/customers/4/storecredit/history", "magento"},
		{"/api/rest/", "magento"},
		{"/API/REST/customers/4/storecredit/history", "manex"},
		{"/api/rest", "manex"},
		{"/API/Customer/Get/K123456789", "manex"},
		{"/api/customer/get/k", "manex"},
		{"/Api/", "manex"},
		{"/AP\u0130/Customer", "manex"}, // İ lowers to i
		{"/api", ""},
		{"/healthz", ""},
		{"/readyz", ""},
		{"/openapi.json", ""},
		{"/", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got, _ := g.route(tt.path); got != tt.want {
			t.Errorf("route(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
