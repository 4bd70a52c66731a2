package apidocs

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// page is a built page: the committed files and the fetched ones.
func page(t *testing.T, withVendor bool) fs.FS {
	t.Helper()
	web, err := fs.Sub(embedded, "web")
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	for _, name := range []string{"index.html", "init.js", "page.css", placeholder} {
		b, err := fs.ReadFile(web, name)
		if err != nil {
			t.Fatalf("committed file %s: %v", name, err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	if withVendor {
		m["vendor/swagger-ui-bundle.js"] = &fstest.MapFile{Data: []byte("window.SwaggerUIBundle = function () {};\n")}
		m["vendor/swagger-ui.css"] = &fstest.MapFile{Data: []byte("body { color: black; }\n")}
	}
	return m
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func serve(t *testing.T, web fs.FS) *httptest.Server {
	t.Helper()
	h, err := NewFS(web)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Before Swagger UI is fetched the gateway still builds; every /docs answer
// is then a 503 saying what to run.
func TestNotBuilt(t *testing.T) {
	t.Parallel()
	h, err := NewFS(page(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if h.Built() || len(h.Missing()) != len(Required) {
		t.Fatalf("Built() = %v, Missing() = %v; want false and %v", h.Built(), h.Missing(), Required)
	}
	srv := serve(t, page(t, false))
	for _, p := range []string{"/docs", "/docs/", "/docs/init.js", "/docs/vendor/swagger-ui.css"} {
		a := get(t, srv, "GET", p, nil)
		if a.status != http.StatusServiceUnavailable || a.body != NotBuilt ||
			a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: %d %q %q; want 503 %q as text/plain", p, a.status, a.header.Get("Content-Type"), a.body, NotBuilt)
		}
	}
	if NotBuilt != "API reference assets were not built; run make build\n" {
		t.Errorf("NotBuilt = %q", NotBuilt)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	srv := serve(t, page(t, true))
	index, _ := fs.ReadFile(page(t, true), "index.html")

	a := get(t, srv, "GET", "/docs?x=1", nil)
	if a.status != http.StatusMovedPermanently || a.header.Get("Location") != "/docs/?x=1" {
		t.Errorf("GET /docs: %d Location %q; want 301 to /docs/?x=1", a.status, a.header.Get("Location"))
	}

	a = get(t, srv, "GET", "/docs/", nil)
	if a.status != 200 || a.body != string(index) || a.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /docs/: %d %q; want 200 index.html", a.status, a.header.Get("Content-Type"))
	}
	for k, v := range securityHeaders {
		if got := a.header.Get(k); got != v {
			t.Errorf("GET /docs/: %s = %q, want %q", k, got, v)
		}
	}
	csp := a.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-") {
		t.Errorf("Content-Security-Policy %q allows something unsafe", csp)
	}

	// Revalidation by ETag, as Cache-Control: no-cache asks.
	etag := a.header.Get("ETag")
	if etag == "" || a.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /docs/: ETag %q, Cache-Control %q", etag, a.header.Get("Cache-Control"))
	}
	if a := get(t, srv, "GET", "/docs/", map[string]string{"If-None-Match": etag}); a.status != http.StatusNotModified {
		t.Errorf("GET /docs/ If-None-Match: %d, want 304", a.status)
	}

	for p, ctype := range map[string]string{
		"/docs/init.js":                     "text/javascript; charset=utf-8",
		"/docs/page.css":                    "text/css; charset=utf-8",
		"/docs/vendor/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
		"/docs/vendor/swagger-ui.css":       "text/css; charset=utf-8",
	} {
		if a := get(t, srv, "GET", p, nil); a.status != 200 || a.header.Get("Content-Type") != ctype || a.body == "" {
			t.Errorf("GET %s: %d %q, want 200 %s", p, a.status, a.header.Get("Content-Type"), ctype)
		}
	}
	if a := get(t, srv, "HEAD", "/docs/init.js", nil); a.status != 200 || a.body != "" {
		t.Errorf("HEAD /docs/init.js: %d %q", a.status, a.body)
	}
	for _, p := range []string{"/docs/nope.js", "/docs/vendor/README.md", "/docs/vendor/", "/docs/../go.mod", "/docs/index.html/"} {
		if a := get(t, srv, "GET", p, nil); a.status != 404 || a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: %d %q; want a plain 404", p, a.status, a.header.Get("Content-Type"))
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		a := get(t, srv, m, "/docs/", nil)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /docs/: %d Allow %q; want 405 GET, HEAD", m, a.status, a.header.Get("Allow"))
		}
	}
}

func TestOwns(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/docs": true, "/docs/": true, "/docs/vendor/swagger-ui.css": true,
		"/docsx": false, "/doc": false, "/Docs": false, "/v1/docs": false, "/": false,
	} {
		if got := Owns(p); got != want {
			t.Errorf("Owns(%q) = %v, want %v", p, got, want)
		}
	}
}

// The committed page loads only its own files by relative URL (the page
// works offline and below any prefix), and has no inline script or style,
// which its policy would refuse.
func TestPageIsSelfContained(t *testing.T) {
	t.Parallel()
	web := page(t, true)
	index, _ := fs.ReadFile(web, "index.html")
	refs := regexp.MustCompile(`<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) < 4 {
		t.Fatalf("index.html loads %d files; want Swagger UI's two, init.js and page.css", len(refs))
	}
	vendored := map[string]bool{"vendor/favicon-32x32.png": true}
	for _, name := range Required {
		vendored[name] = true
	}
	for _, r := range refs {
		ref := r[1]
		if _, err := fs.Stat(web, ref); err != nil && !vendored[ref] {
			t.Errorf("index.html loads %q, which is neither committed nor fetched", ref)
		}
	}
	for _, bad := range []string{"<style", " style=", "javascript:", "http://", "https://"} {
		if strings.Contains(strings.ToLower(string(index)), bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	if h := regexp.MustCompile(`(?i)\son[a-z]+=`).FindString(string(index)); h != "" {
		t.Errorf("index.html has an inline event handler %q", h)
	}
	if n := strings.Count(string(index), "<script"); n != strings.Count(string(index), "<script src=") {
		t.Errorf("index.html has an inline script")
	}
	initJS, _ := fs.ReadFile(web, "init.js")
	if strings.Contains(string(initJS), "http://") || strings.Contains(string(initJS), "https://") {
		t.Errorf("init.js names an absolute URL; the page must work offline")
	}
}

// The page built into this binary: a clean clone embeds only the committed
// files (and /docs answers 503); after `make build`, Swagger UI's too.
func TestEmbedded(t *testing.T) {
	t.Parallel()
	h := New()
	_, err := os.Stat("web/vendor/swagger-ui-bundle.js")
	if fetched := err == nil; h.Built() != fetched {
		t.Errorf("Built() = %v, but web/vendor/swagger-ui-bundle.js fetched = %v", h.Built(), fetched)
	}
}
