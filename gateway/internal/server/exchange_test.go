package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// exchange is one request and the answer the gateway must give.
type exchange struct {
	name       string
	method     string
	target     string
	header     map[string]string
	body       string
	wantStatus int
	// wantBody is compared semantically; "<uuid>" stands for a fresh
	// version 4 UUID (Exigo's transactionKey). Empty skips the comparison.
	wantBody   string
	wantHeader map[string]string
}

func basic(user, pass string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

// with returns h plus the extra header.
func with(h map[string]string, key, value string) map[string]string {
	out := map[string]string{key: value}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func (e *env) serve(method, target string, header map[string]string, body io.Reader) *httptest.ResponseRecorder {
	return e.serveFrom("", method, target, header, body)
}

// serveFrom serves a request from remoteAddr (httptest's default when empty).
func (e *env) serveFrom(remoteAddr, method, target string, header map[string]string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	if remoteAddr != "" {
		r.RemoteAddr = remoteAddr
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// run serves each exchange on a fresh gateway, so limiter state and recorded
// calls never leak between cases.
func run(t *testing.T, exchanges []exchange) {
	t.Helper()
	for _, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			method := ex.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			if ex.body != "" {
				body = strings.NewReader(ex.body)
			}
			w := e.serve(method, ex.target, ex.header, body)
			checkAnswer(t, w, ex.wantStatus, ex.wantBody, ex.wantHeader)
		})
	}
}

func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, wantStatus int, wantBody string, wantHeader map[string]string) {
	t.Helper()
	if w.Code != wantStatus {
		t.Errorf("status = %d, want %d; body %s", w.Code, wantStatus, w.Body)
	}
	for k, v := range wantHeader {
		if got := w.Header().Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if wantBody != "" {
		jsonEqual(t, wantBody, w.Body.Bytes())
	}
}

// jsonEqual compares JSON documents semantically. Numbers are compared by
// their digits (json.Number), so 25.00 and 25 differ, as they must for money.
func jsonEqual(t *testing.T, want string, got []byte) {
	t.Helper()
	g, err := decodeJSON(got)
	if err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, got)
	}
	w, err := decodeJSON([]byte(want))
	if err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if diff := cmp.Diff(w, normalizeUUIDs(t, g)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// normalizeUUIDs replaces every transactionKey, after checking it is a v4
// UUID, with "<uuid>".
func normalizeUUIDs(t *testing.T, v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "transactionKey" {
				if id, err := uuid.Parse(s); err != nil || id.Version() != 4 {
					t.Errorf("transactionKey %q is not a v4 UUID", s)
				}
				v[k] = "<uuid>"
				continue
			}
			v[k] = normalizeUUIDs(t, x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeUUIDs(t, x)
		}
	}
	return v
}
