package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawAnswer is an HTTP answer with its header.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	json   any
}

// sendHeader sends a request whose header may repeat a name or hold bytes
// httpDo's map cannot express, to base (a gateway's URL).
func sendHeader(t *testing.T, base, method, path string, header http.Header, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := rawAnswer{status: resp.StatusCode, header: resp.Header, body: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &a.json); err != nil {
			t.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, a.status, raw)
		}
	}
	return a
}

func basicHeader(user, pass string) http.Header {
	h := http.Header{}
	for k, v := range basicAuth(user, pass) {
		h.Set(k, v)
	}
	return h
}

// An Idempotency-Key that breaks the rule, or is sent twice, is refused
// before anything is written; a valid one is kept exactly, and a retry with
// it replays the first answer. Before, grpc-gateway dropped a non-ASCII key
// with only a log line, and the retry posted a second time.
func TestNativeIdempotencyKeyRule(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	auth := basicHeader(tc.magentoUser, tc.magentoKey)
	id := createNative(t, basicAuth(tc.magentoUser, tc.magentoKey), `{"name":"Keys","status":"CUSTOMER_STATUS_ACTIVE"}`)
	entries := fmt.Sprintf("/v1/customers/%d/entries", id)
	posting := `{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`
	batch := fmt.Sprintf(`{"postings":[{"customer_id":%d,"currency":"USD","kind":"PAYMENT","amount":"1.00"}]}`, id)
	const ruleMsg = "Idempotency-Key: must be 1 to 200 visible ASCII characters (! to ~: letters, digits, punctuation; no spaces)"

	refused := []struct {
		name    string
		keys    []string
		message string
	}{
		{"cyrillic", []string{"заказ-1"}, ruleMsg},
		{"accent", []string{"café-7"}, ruleMsg},
		{"raw 0xFF byte", []string{"order-\xff"}, ruleMsg},
		{"tab inside", []string{"order\t1"}, ruleMsg},
		{"201 characters", []string{strings.Repeat("k", 201)}, ruleMsg},
		{"sent twice", []string{"order-2", "order-2"}, "Idempotency-Key: must be sent at most once"},
	}
	for _, r := range refused {
		for _, target := range []struct{ path, body string }{{entries, posting}, {"/v1/entries:batchPost", batch}} {
			t.Run(r.name+" "+target.path, func(t *testing.T) {
				h := auth.Clone()
				h["Idempotency-Key"] = r.keys
				a := sendHeader(t, sys.gateway, "POST", target.path, h, target.body)
				if a.status != 400 || field(a.json, "code") != 3.0 || field(a.json, "message") != r.message {
					t.Errorf("got %d %s; want 400 INVALID_ARGUMENT %q", a.status, a.body, r.message)
				}
			})
		}
	}
	list := sendHeader(t, sys.gateway, "GET", entries, auth, "")
	if es, _ := field(list.json, "entries").([]any); list.status != 200 || len(es) != 0 {
		t.Fatalf("entries after refused keys: %d %s; want none written", list.status, list.body)
	}

	const key = "order-1001_a.b:c/d~!#"
	h := auth.Clone()
	h.Set("Idempotency-Key", key)
	first := sendHeader(t, sys.gateway, "POST", entries, h, posting)
	again := sendHeader(t, sys.gateway, "POST", entries, h, posting)
	if first.status != 200 || field(first.json, "entry", "idempotency_key") != key {
		t.Fatalf("valid key: %d %s; want it kept exactly", first.status, first.body)
	}
	if again.status != 200 || field(again.json, "replayed") != true ||
		field(again.json, "entry", "entry_id") != field(first.json, "entry", "entry_id") {
		t.Errorf("retry with the key: %d %s; want the first answer replayed", again.status, again.body)
	}
}

// A method a native path does not have is 405 with Allow; a path no route
// has is 404; answers carry no Grpc-Metadata-* headers.
func TestNativeMethodsAndHeaders(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	auth := basicHeader(tc.magentoUser, tc.magentoKey)
	id := createNative(t, basicAuth(tc.magentoUser, tc.magentoKey), `{"name":"Methods","status":"CUSTOMER_STATUS_ACTIVE"}`)
	tests := []struct {
		name, method, path string
		status             int
		allow              string
	}{
		{"PUT on a customer", "PUT", fmt.Sprintf("/v1/customers/%d", id), 405, "GET, PATCH"},
		{"DELETE on a customer", "DELETE", fmt.Sprintf("/v1/customers/%d", id), 405, "GET, PATCH"},
		{"OPTIONS on a batch", "OPTIONS", "/v1/entries:batchPost", 405, "POST"},
		{"POST on balances at", "POST", fmt.Sprintf("/v1/customers/%d/balances:at", id), 405, "GET"},
		{"PUT on entries", "PUT", fmt.Sprintf("/v1/customers/%d/entries", id), 405, "GET, POST"},
		{"a path no route has", "PUT", "/v1/nothing/here", 404, ""},
		{"an answer", "GET", fmt.Sprintf("/v1/customers/%d", id), 200, ""},
		{"a service's refusal", "GET", "/v1/customers/999999", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := sendHeader(t, sys.gateway, tt.method, tt.path, auth, "")
			if a.status != tt.status || a.header.Get("Allow") != tt.allow {
				t.Errorf("got %d Allow %q %s; want %d Allow %q", a.status, a.header.Get("Allow"), a.body, tt.status, tt.allow)
			}
			if tt.status == 405 && (field(a.json, "code") != 12.0 || field(a.json, "message") != "Method Not Allowed") {
				t.Errorf("405 body %s, want a google.rpc.Status", a.body)
			}
			for k := range a.header {
				if strings.HasPrefix(k, "Grpc-") {
					t.Errorf("answer carries %s: %v", k, a.header[k])
				}
			}
		})
	}
}
