package server

import (
	"net/http"
	"testing"

	"github.com/abacus-ledger/abacus/gateway/internal/apidocs"
)

// /docs and the files below it are the API reference page's, public like
// /openapi.json; a path that only starts like it is the native 404.
func TestDocsRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	built := apidocs.New().Built()
	for _, p := range []string{"/docs", "/docs/", "/docs/init.js"} {
		w := e.serve(http.MethodGet, p, nil, nil)
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy; not answered by the docs page", p)
		}
		switch {
		case !built && (w.Code != http.StatusServiceUnavailable || w.Body.String() != apidocs.NotBuilt):
			t.Errorf("GET %s (not built): %d %q; want 503 %q", p, w.Code, w.Body, apidocs.NotBuilt)
		case built && p == "/docs" && w.Code != http.StatusMovedPermanently:
			t.Errorf("GET /docs: %d; want 301 to /docs/", w.Code)
		case built && p != "/docs" && w.Code != http.StatusOK:
			t.Errorf("GET %s: %d %s; want 200", p, w.Code, w.Body)
		}
	}
	w := e.serve(http.MethodGet, "/docsx", nil, nil)
	checkAnswer(t, w, http.StatusNotFound, `{"code":5,"message":"Not Found","details":[]}`, nil)
}
