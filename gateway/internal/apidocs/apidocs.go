// Package apidocs serves the gateway's API reference page: /docs, Swagger UI
// rendering the native API's OpenAPI document (/openapi.json).
//
// The page's own files (web/index.html, init.js, page.css) are committed;
// Swagger UI's (web/vendor/) are fetched from npm at build time by `make
// build` and never committed. The gateway builds without them, and then
// /docs answers 503 saying so. Everything the page loads comes from the
// gateway, so it works offline, under a Content-Security-Policy that allows
// no inline script and nothing from elsewhere.
package apidocs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Prefix is the page's path; its files are served below Prefix + "/".
const Prefix = "/docs"

// NotBuilt is the body of every /docs answer when Swagger UI's files were
// not fetched before the gateway was built.
const NotBuilt = "API reference assets were not built; run make build\n"

// Required are the fetched files the page cannot work without, relative to
// web/.
var Required = []string{"vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css"}

// placeholder is the committed file that keeps web/vendor/ in a clean clone
// (go:embed needs the directory to exist); it is not served.
const placeholder = "vendor/README.md"

// securityHeaders go on every answer under /docs. The policy allows scripts,
// styles, fonts and fetches from the gateway only, images from the gateway
// and data: URLs (Swagger UI draws its icons as such), and no framing.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

//go:embed web
var embedded embed.FS

// Handler serves the page. Its zero value is not usable; use New.
type Handler struct {
	files   map[string]file // by path relative to web/
	missing []string        // Required files absent
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// New returns the handler of the page built into the binary. It is read
// once and shared: a Handler never changes.
func New() *Handler { return builtIn() }

var builtIn = sync.OnceValue(func() *Handler {
	web, err := fs.Sub(embedded, "web")
	if err != nil {
		panic(err) // the pattern is a constant directory
	}
	h, err := NewFS(web)
	if err != nil {
		panic(fmt.Sprintf("apidocs: the embedded page cannot be read: %v", err))
	}
	return h
})

// NewFS returns a handler serving the page from web, a directory laid out as
// this package's web/.
func NewFS(web fs.FS) (*Handler, error) {
	h := &Handler{files: map[string]file{}}
	err := fs.WalkDir(web, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == placeholder {
			return err
		}
		body, err := fs.ReadFile(web, name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		h.files[name] = file{body: body, contentType: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := h.files["index.html"]; !ok {
		return nil, fmt.Errorf("apidocs: no index.html")
	}
	for _, name := range Required {
		if _, ok := h.files[name]; !ok {
			h.missing = append(h.missing, name)
		}
	}
	return h, nil
}

// Built reports whether Swagger UI's files are present; when they are not,
// Missing names them and every answer is 503 NotBuilt.
func (h *Handler) Built() bool { return len(h.missing) == 0 }

// Missing lists the required files that were not fetched.
func (h *Handler) Missing() []string { return append([]string(nil), h.missing...) }

// Owns reports whether a request path is the page's.
func Owns(p string) bool {
	return p == Prefix || strings.HasPrefix(p, Prefix+"/")
}

// ServeHTTP answers GET and HEAD for the page and its files: /docs redirects
// to /docs/ (so the page's relative URLs resolve below it), /docs/ is the
// page, /docs/NAME one of its files. Errors are short plain text.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on "+Prefix+"; use GET\n")
		return
	}
	if !h.Built() {
		plain(w, http.StatusServiceUnavailable, NotBuilt)
		return
	}
	if r.URL.Path == Prefix {
		target := Prefix + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Prefix+"/")
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		plain(w, http.StatusNotFound, "no such file in the API reference: "+r.URL.Path+"\n")
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", f.etag)
	// Names are not versioned, so a browser revalidates each time; the ETag
	// makes that a 304.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}
