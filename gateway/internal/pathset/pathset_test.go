package pathset

import "testing"

func TestOwns(t *testing.T) {
	t.Parallel()
	exact := Set{Exact: []string{"/a/b", "/a/b/"}}
	prefix := Set{Prefixes: []string{"/api/"}}
	anyCase := Set{Exact: []string{"/x"}, Prefixes: []string{"/API/"}, AnyCase: true}
	tests := []struct {
		p    Set
		path string
		want bool
	}{
		{exact, "/a/b", true},
		{exact, "/a/b/", true},
		{exact, "/A/b", false},
		{exact, "/a/b/c", false},
		{exact, "/a", false},
		{prefix, "/api/", true},
		{prefix, "/api/rest/x", true},
		{prefix, "/API/rest", false},
		{prefix, "/api", false},
		{anyCase, "/X", true},
		{anyCase, "/api/x", true},
		{anyCase, "/Api/", true},
		{anyCase, "/AP\u0130/", true}, // İ lowers to i, as the server has always matched
		{anyCase, "/ap", false},
		{Set{}, "/", false},
	}
	for _, tt := range tests {
		if got := tt.p.Owns(tt.path); got != tt.want {
			t.Errorf("%+v.Owns(%q) = %v, want %v", tt.p, tt.path, got, tt.want)
		}
	}
}
