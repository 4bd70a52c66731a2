package e2e

import (
	"strings"
	"testing"
)

// Bytes that are not UTF-8 in a URL are the client's mistake: each surface
// answers 400 in its own shape naming the parameter, never a 500 (protobuf
// strings cannot carry them to the services).
func TestInvalidUTF8InURLs(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	exigo := basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword)
	for _, c := range []struct {
		name, path string
		auth       map[string]string
		mention    string
	}{
		{"native query parameter", "/v1/customers/1/history?page_token=%ff%fe", native, "page_token"},
		{"native lookup", "/v1/customers:lookup?name=%c3%28", native, "name"},
		{"native path", "/v1/customers/%ed%a0%80", native, "path"},
		{"exigo customerKey", "/3.0/customers/balances?customerKey=%ff", exigo, "customerKey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, raw, err := httpDo(t.Context(), "GET", sys.gateway+c.path, c.auth, nil)
			if err != nil {
				t.Fatal(err)
			}
			if code != 400 || !strings.Contains(string(raw), c.mention) {
				t.Errorf("%d %s, want 400 naming %s", code, raw, c.mention)
			}
		})
	}
}
