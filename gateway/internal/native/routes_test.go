package native

import (
	"slices"
	"strings"
	"testing"

	"github.com/abacus-ledger/abacus/proto/openapi"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	rs, err := parseRoutes(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string
	}{
		{"collection", "/v1/customers", "GET, POST"},
		{"one customer: get and update come from two templates", "/v1/customers/42", "GET, PATCH"},
		{"a verb after a variable's sibling", "/v1/customers/42/balances:at", "GET"},
		{"the same path without the verb", "/v1/customers/42/balances", "GET"},
		{"entries: list and post", "/v1/customers/42/entries", "GET, POST"},
		{"verb on a collection", "/v1/entries:batchPost", "POST"},
		{"lookup", "/v1/customers:lookup", "GET"},
		{"three variables", "/v1/customers/1/extended/2/3", "GET, PATCH"},
		{"a variable holds anything but a slash", "/v1/customers/a:b", "GET, PATCH"},
		{"unknown verb", "/v1/entries:batchDelete", ""},
		{"bare verb", "/v1/:batchPost", ""},
		{"unknown path", "/v1/nothing", ""},
		{"too deep", "/v1/customers/42/balances/x", ""},
		// As in the mux, a variable matches an empty segment too.
		{"trailing slash", "/v1/customers/", "GET, PATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(rs.allowed(tt.path), ", "); got != tt.want {
				t.Errorf("allowed(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestParseRoutesRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc string }{
		{"not JSON", `{`},
		{"relative path", `{"paths":{"v1/x":{"get":{}}}}`},
		{"multi-segment variable", `{"paths":{"/v1/{name=shelves/*}":{"get":{}}}}`},
		{"deep wildcard", `{"paths":{"/v1/**":{"get":{}}}}`},
		{"unclosed variable", `{"paths":{"/v1/{name":{"get":{}}}}`},
		{"empty segment", `{"paths":{"/v1//x":{"get":{}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if rs, err := parseRoutes([]byte(tt.doc)); err == nil {
				t.Errorf("parseRoutes(%s) = %v, want an error", tt.doc, rs)
			}
		})
	}
}

func TestParseRoutesMethods(t *testing.T) {
	t.Parallel()
	rs, err := parseRoutes([]byte(`{"paths":{"/v1/x/{id}":{"get":{},"delete":{},"parameters":[]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.allowed("/v1/x/7"); !slices.Equal(got, []string{"DELETE", "GET"}) {
		t.Errorf("allowed = %v, want [DELETE GET]", got)
	}
}
