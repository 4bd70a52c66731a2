package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/gateway/internal/apidocs"
)

// chromiumOnce finds Debian's chromium, installing it when missing (make
// test and .ci/run install it first; this covers a bare `go test`).
var chromiumOnce = installedOnce(func() (string, error) {
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}, "chromium")

// docsArtifact is where TestDocsPage keeps its screenshot, relative to the
// workspace root (.data/ is git-ignored).
const docsArtifact = ".data/test-artifacts/docs.png"

// chromium runs headless chromium on url with args added, in a fresh
// profile, and returns what it printed: stdout (--dump-dom's DOM) and
// stderr (its log, with the page's console messages). Host names other than
// 127.0.0.1 do not resolve, so the page works offline or not at all.
func chromium(t *testing.T, bin, url string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--enable-logging=stderr", "--log-level=0",
		// Virtual time runs on while the page is idle; fetches in flight hold it.
		"--virtual-time-budget=30000"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, errb.Bytes())
	}
	return out.Bytes(), errb.Bytes()
}

// operation is one path and method of the OpenAPI document.
type operation struct {
	Method, Path, OperationID, Summary string
}

// documentOperations reads every operation of the gateway's /openapi.json.
func documentOperations(t *testing.T) []operation {
	t.Helper()
	code, raw, err := httpDo(t.Context(), "GET", sys.gateway+"/openapi.json", nil, nil)
	if err != nil || code != 200 {
		t.Fatalf("GET /openapi.json: %d %v %s", code, err, raw)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
	var ops []operation
	for p, methods := range doc.Paths {
		for m, op := range methods {
			if m == "parameters" { // shared parameters, not an operation
				continue
			}
			ops = append(ops, operation{strings.ToUpper(m), p, op.OperationID, op.Summary})
		}
	}
	if len(ops) == 0 {
		t.Fatal("/openapi.json has no operations; the test would prove nothing")
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return ops
}

var (
	opblockStart = regexp.MustCompile(`<div class="opblock opblock-[a-z]+[^"]*" id="operations-`)
	opMethod     = regexp.MustCompile(`<span class="opblock-summary-method">([^<]*)</span>`)
	opPath       = regexp.MustCompile(`<span class="opblock-summary-path[^"]*" data-path="([^"]*)"`)
	opID         = regexp.MustCompile(`<span class="opblock-summary-operation-id">([^<]*)</span>`)
	opSummary    = regexp.MustCompile(`(?s)<div class="opblock-summary-description">(.*?)</div>`)
	htmlTag      = regexp.MustCompile(`<[^>]*>`)
	spaces       = regexp.MustCompile(`\s+`)
	// Every script and stylesheet the page loads: each must be the gateway's.
	pageResource = regexp.MustCompile(`<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"`)
)

// shownOperations reads the operations Swagger UI rendered into the DOM, as
// it shows them: method, path, operationId and summary, by "METHOD path".
func shownOperations(dom string) map[string]operation {
	text := func(s string) string {
		return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(htmlTag.ReplaceAllString(s, "")), " "))
	}
	shown := map[string]operation{}
	starts := opblockStart.FindAllStringIndex(dom, -1)
	for i, s := range starts {
		end := len(dom)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		block := dom[s[0]:end]
		var op operation
		if m := opMethod.FindStringSubmatch(block); m != nil {
			op.Method = text(m[1])
		}
		if m := opPath.FindStringSubmatch(block); m != nil {
			op.Path = html.UnescapeString(m[1])
		}
		if m := opID.FindStringSubmatch(block); m != nil {
			op.OperationID = text(m[1])
		}
		if m := opSummary.FindStringSubmatch(block); m != nil {
			op.Summary = text(m[1])
		}
		shown[op.Method+" "+op.Path] = op
	}
	return shown
}

// The API reference page, opened in a real headless chromium on the real
// gateway, renders every operation of the gateway's OpenAPI document —
// method, path, operationId and summary as Swagger UI shows them — from the
// gateway's own files only (no CDN; host names do not even resolve) and
// without a Content-Security-Policy violation. Its screenshot is kept at
// .data/test-artifacts/docs.png under the repository.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	code, raw, err := httpDo(t.Context(), "GET", sys.gateway+"/docs/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code == http.StatusServiceUnavailable && string(raw) == apidocs.NotBuilt {
		if _, err := exec.LookPath("npm"); err != nil {
			skipWithout(t, err, "npm (for the /docs page's Swagger UI)", "make build")
		}
		t.Fatalf("/docs answers %q: the gateway under test was built before Swagger UI was fetched; run `make build` (npm ci in gateway/internal/apidocs) before the tests", raw)
	}
	if code != 200 {
		t.Fatalf("GET /docs/: %d %s", code, raw)
	}
	chrome, err := chromiumOnce()
	skipWithout(t, err, "chromium (headless, for the /docs page)", "apt-get install -y chromium")
	ops := documentOperations(t)

	// /docs redirects to /docs/, so this also follows that.
	dom, log := chromium(t, chrome, sys.gateway+"/docs", "--dump-dom")
	page := string(dom)
	if !strings.Contains(page, `data-docs-state="rendered"`) {
		t.Fatalf("the page did not finish rendering (no data-docs-state=\"rendered\" on <html>); DOM:\n%.4000s\nchromium log:\n%s", page, consoleLines(log))
	}
	for _, line := range consoleLines(log) {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "net::ERR_") {
			t.Errorf("the page broke its policy or failed a load: %s", line)
		} else {
			t.Logf("page console: %s", line)
		}
	}
	for _, m := range pageResource.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[1], "//") {
			t.Errorf("the page loads %q; everything must come from the gateway, by a relative URL", m[1])
		}
	}

	shown := shownOperations(page)
	for _, want := range ops {
		got, ok := shown[want.Method+" "+want.Path]
		if !ok {
			t.Errorf("%s %s (%s) is not listed on the page", want.Method, want.Path, want.OperationID)
			continue
		}
		want.Summary = strings.TrimSpace(spaces.ReplaceAllString(want.Summary, " "))
		if got != want {
			t.Errorf("%s %s is shown as %+v; the document says %+v", want.Method, want.Path, got, want)
		}
	}
	if len(shown) != len(ops) {
		t.Errorf("the page lists %d operations, the document has %d", len(shown), len(ops))
	}

	// The screenshot, kept where a person can look at it.
	root, err := workspaceRoot()
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(root, docsArtifact)
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(shot)
	chromium(t, chrome, sys.gateway+"/docs/", "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
	checkScreenshot(t, shot)
	t.Logf("screenshot of /docs: %s", shot)
}

// consoleLines are the page's console messages in chromium's log.
func consoleLines(log []byte) []string {
	var lines []string
	for line := range strings.Lines(string(log)) {
		if strings.Contains(line, ":CONSOLE") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

// checkScreenshot fails unless file is a PNG of the window's size showing
// more than a blank page: many colours (text, the methods' coloured badges).
func checkScreenshot(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1280×2400", b)
	}
	colours := map[color.RGBA]bool{}
	var nonWhite int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			colours[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				nonWhite++
			}
		}
	}
	if len(colours) < 50 || nonWhite < b.Dx()*b.Dy()/4/50 {
		t.Errorf("screenshot %s looks blank: %d colours, %d of %d sampled pixels not white", file, len(colours), nonWhite, b.Dx()*b.Dy()/4)
	}
}
