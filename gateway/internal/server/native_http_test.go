package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/proto/openapi"
)

// nativeUnavailable is the native API's answer to an outage.
const nativeUnavailable = `{"code":14,"message":"The service is temporarily unavailable; retry later. A posting can be retried safely with the same Idempotency-Key.","details":[]}`

// serveHeader serves a request whose header may repeat a name.
func (e *env) serveHeader(method, target string, header http.Header, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, vs := range basic("mage", "mage-key") {
		r.Header.Set(k, vs)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// TestNativeIdempotencyKey: a key breaking the rule, or sent twice, is a
// 400 naming the header and the rule, and no posting reaches the ledger; a
// valid key is forwarded exactly.
func TestNativeIdempotencyKey(t *testing.T) {
	t.Parallel()
	const (
		ruleBody = `{"code":3,"message":"Idempotency-Key: must be 1 to 200 visible ASCII characters (! to ~: letters, digits, punctuation; no spaces)",
			"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"Idempotency-Key",
			"description":"must be 1 to 200 visible ASCII characters (! to ~: letters, digits, punctuation; no spaces)","reason":"","localized_message":null}]}]}`
		twiceBody = `{"code":3,"message":"Idempotency-Key: must be sent at most once",
			"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"Idempotency-Key",
			"description":"must be sent at most once","reason":"","localized_message":null}]}]}`
	)
	routes := []struct{ name, target, rpc, body string }{
		{"post", "/v1/customers/42/entries", "PostEntry", `{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`},
		{"batch", "/v1/entries:batchPost", "BatchPostEntries", `{"postings":[{"customer_id":42,"currency":"USD","kind":"PAYMENT","amount":"1.00"}]}`},
	}
	keys := []struct {
		name     string
		values   []string
		wantBody string // "" when the key is valid and forwarded
	}{
		{"cyrillic", []string{"заказ-1"}, ruleBody},
		{"accent", []string{"café-7"}, ruleBody},
		{"raw 0xFF byte", []string{"key-\xff"}, ruleBody},
		{"tab inside", []string{"a\tb"}, ruleBody},
		{"space inside", []string{"order 1"}, ruleBody},
		{"empty", []string{""}, ruleBody},
		{"201 characters", []string{strings.Repeat("k", 201)}, ruleBody},
		{"sent twice", []string{"order-1", "order-1"}, twiceBody},
		{"letters, digits, punctuation", []string{"order-1001_a.b:c/d~!"}, ""},
		{"200 characters", []string{strings.Repeat("k", 200)}, ""},
	}
	for _, rt := range routes {
		for _, k := range keys {
			t.Run(rt.name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, envOptions{})
				w := e.serveHeader(http.MethodPost, rt.target, http.Header{"Idempotency-Key": k.values}, rt.body)
				calls := e.calls.to(rt.rpc)
				if k.wantBody != "" {
					checkAnswer(t, w, http.StatusBadRequest, k.wantBody, nil)
					if len(calls) != 0 {
						t.Errorf("%s called %d times with a refused key", rt.rpc, len(calls))
					}
					return
				}
				// The fake ledger does not implement postings: reaching it is
				// the point.
				checkAnswer(t, w, http.StatusNotImplemented, "", nil)
				if len(calls) != 1 || !slices.Equal(calls[0].md.Get("idempotency-key"), k.values) {
					t.Errorf("calls = %v, want one carrying idempotency-key %q", calls, k.values)
				}
			})
		}
	}
}

// TestNativeNoServiceMetadata: the services' response metadata stays at
// the gateway; no Grpc-Metadata-* or Grpc-Trailer-* headers, in answers or
// errors.
func TestNativeNoServiceMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target string
		wantStatus   int
	}{
		{"answer", "/v1/customers/42", http.StatusOK},
		{"error", "/v1/customers/43", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			w := e.serveHeader(http.MethodGet, tt.target, http.Header{"Te": {"trailers"}}, "")
			checkAnswer(t, w, tt.wantStatus, "", nil)
			for k := range w.Result().Header {
				if strings.HasPrefix(k, "Grpc-") {
					t.Errorf("answer carries %s: %v", k, w.Result().Header[k])
				}
			}
		})
	}
}

// TestNativeInternalsHidden: an outage's transport text and an internal
// failure's text stay in the log; client errors keep the service's words.
func TestNativeInternalsHidden(t *testing.T) {
	t.Parallel()
	badRequest, _ := status.New(codes.InvalidArgument, "invalid posting").WithDetails(fieldViolation("posting.amount", "must be positive"))
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"outage", status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:9092: connect: connection refused"`),
			http.StatusServiceUnavailable, nativeUnavailable},
		{"internal", status.Error(codes.Internal, "pq: relation ledger.entries does not exist"),
			http.StatusInternalServerError, `{"code":13,"message":"internal error","details":[]}`},
		{"invalid keeps message and details", badRequest.Err(), http.StatusBadRequest,
			`{"code":3,"message":"invalid posting","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",
			"field_violations":[{"field":"posting.amount","description":"must be positive","reason":"","localized_message":null}]}]}`},
		{"not found keeps message", status.Error(codes.NotFound, "customer 42 not found"), http.StatusNotFound,
			`{"code":5,"message":"customer 42 not found","details":[]}`},
		{"already exists keeps message", status.Error(codes.AlreadyExists, "idempotency key already used"), http.StatusConflict,
			`{"code":6,"message":"idempotency key already used","details":[]}`},
		{"failed precondition keeps message", status.Error(codes.FailedPrecondition, "not applied yet"), http.StatusBadRequest,
			`{"code":9,"message":"not applied yet","details":[]}`},
		{"aborted keeps message", status.Error(codes.Aborted, "changed meanwhile"), http.StatusConflict,
			`{"code":10,"message":"changed meanwhile","details":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fe := newFailingEnv(t, map[string]error{"PostEntry": tt.err})
			w := fe.serve(http.MethodPost, "/v1/customers/42/entries", basic("mage", "mage-key"),
				strings.NewReader(`{"currency":"USD","kind":"PAYMENT","amount":"1.00"}`))
			checkAnswer(t, w, tt.wantStatus, tt.wantBody, nil)
			if tt.wantStatus < 500 {
				return
			}
			probs := fe.problems(t)
			if want := status.Convert(tt.err).Message(); len(probs) != 1 || !strings.Contains(fmt.Sprint(probs[0]["error"]), want) {
				t.Errorf("log = %v, want one line with %q", probs, want)
			}
		})
	}
}

func fieldViolation(field, rule string) *errdetails.BadRequest {
	return &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: rule}}}
}

// TestNativeMethodNotAllowed: a method a path does not have is 405 with
// Allow listing the methods it has; a path no route matches stays 404.
func TestNativeMethodNotAllowed(t *testing.T) {
	t.Parallel()
	const notAllowed = `{"code":12,"message":"Method Not Allowed","details":[]}`
	tests := []struct {
		name, method, target string
		wantStatus           int
		allow                string
	}{
		{"PUT on a customer", http.MethodPut, "/v1/customers/42", http.StatusMethodNotAllowed, "GET, PATCH"},
		{"DELETE on a customer", http.MethodDelete, "/v1/customers/42", http.StatusMethodNotAllowed, "GET, PATCH"},
		{"OPTIONS on the collection", http.MethodOptions, "/v1/customers", http.StatusMethodNotAllowed, "GET, POST"},
		{"HEAD on the collection", http.MethodHead, "/v1/customers", http.StatusMethodNotAllowed, "GET, POST"},
		{"GET on a batch", http.MethodGet, "/v1/entries:batchPost", http.StatusMethodNotAllowed, "POST"},
		{"POST on balances at", http.MethodPost, "/v1/customers/42/balances:at", http.StatusMethodNotAllowed, "GET"},
		{"DELETE on entries", http.MethodDelete, "/v1/customers/42/entries", http.StatusMethodNotAllowed, "GET, POST"},
		{"POST on lookup", http.MethodPost, "/v1/customers:lookup", http.StatusMethodNotAllowed, "GET"},
		{"unknown path", http.MethodPut, "/v1/nothing", http.StatusNotFound, ""},
		{"unknown verb", http.MethodPost, "/v1/entries:batchDelete", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			w := e.serveHeader(tt.method, tt.target, nil, "")
			want := notAllowed
			if tt.wantStatus == http.StatusNotFound {
				want = `{"code":5,"message":"Not Found","details":[]}`
			}
			if tt.method == http.MethodHead {
				want = "" // no body
			}
			checkAnswer(t, w, tt.wantStatus, want, map[string]string{"Allow": tt.allow})
		})
	}
}

// TestNativeRoutesMatchOpenAPI: for every path template and method of the
// OpenAPI document, the mux routes that method and answers 405 to others
// with exactly the document's methods as Allow. It keeps the Allow matcher
// and the generated handlers in step.
func TestNativeRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatal(err)
	}
	variable := regexp.MustCompile(`\{[^}]*\}`)
	byPath := map[string][]string{}
	for template, ops := range doc.Paths {
		path := variable.ReplaceAllString(template, "42")
		for m := range ops {
			byPath[path] = append(byPath[path], strings.ToUpper(m))
		}
	}
	for path, methods := range byPath {
		slices.Sort(methods)
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			for _, m := range methods {
				w := e.serveHeader(m, path, nil, "{}")
				if w.Code == http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), `"message":"Not Found"`) {
					t.Errorf("%s %s: %d %s, want it routed", m, path, w.Code, w.Body)
				}
			}
			for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodOptions} {
				if slices.Contains(methods, m) {
					continue
				}
				w := e.serveHeader(m, path, nil, "{}")
				checkAnswer(t, w, http.StatusMethodNotAllowed, "", map[string]string{"Allow": strings.Join(methods, ", ")})
			}
		})
	}
}

// TestNativeEnumNames: the native API writes enum values by their short
// names and reads them by short name, proto name or number, in bodies and
// query parameters alike; any other value is a 400 naming the field and
// the values it takes, and reaches no service.
func TestNativeEnumNames(t *testing.T) {
	t.Parallel()
	const refused = `{"code":3,"message":"status: \"%s\" is not a valid value; use one of UNSPECIFIED, ACTIVE, INACTIVE, QUOTE","details":[]}`
	acmeJSON := `{"customer_id":42,"customer_key":"","customer_number":"0000000010","name":"Acme","status":"ACTIVE"`
	tests := []struct {
		name, method, target, body string
		rpc                        string // the call it makes, if any
		wantStatus                 int
		wantStatusField            string // the answer's status, or "" when it has none
		wantBody                   string // the whole answer, when given
	}{
		{"get", http.MethodGet, "/v1/customers/42", "", "GetCustomer", http.StatusOK, "ACTIVE", ""},
		{"create, short name", http.MethodPost, "/v1/customers", `{"name":"Echo","status":"QUOTE"}`, "CreateCustomer", http.StatusOK, "QUOTE", ""},
		{"create, proto name", http.MethodPost, "/v1/customers", `{"name":"Echo","status":"CUSTOMER_STATUS_INACTIVE"}`, "CreateCustomer", http.StatusOK, "INACTIVE", ""},
		{"create, number", http.MethodPost, "/v1/customers", `{"name":"Echo","status":1}`, "CreateCustomer", http.StatusOK, "ACTIVE", ""},
		{"create, unknown value", http.MethodPost, "/v1/customers", `{"name":"Echo","status":"OPEN"}`, "", http.StatusBadRequest, "",
			fmt.Sprintf(refused, "OPEN")},
		{"filter, short name", http.MethodGet, "/v1/customers?status=ACTIVE", "", "ListCustomers", http.StatusOK, "", ""},
		{"filter, proto name", http.MethodGet, "/v1/customers?status=CUSTOMER_STATUS_ACTIVE", "", "ListCustomers", http.StatusOK, "", ""},
		{"filter, another status", http.MethodGet, "/v1/customers?status=QUOTE", "", "ListCustomers", http.StatusOK, "",
			`{"customers":[],"next_page_token":""}`},
		{"filter, unknown value", http.MethodGet, "/v1/customers?status=open", "", "", http.StatusBadRequest, "",
			fmt.Sprintf(refused, "open")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			w := e.serveHeader(tt.method, tt.target, nil, tt.body)
			checkAnswer(t, w, tt.wantStatus, tt.wantBody, nil)
			for _, rpc := range []string{"GetCustomer", "CreateCustomer", "ListCustomers"} {
				if want := btoi(rpc == tt.rpc); len(e.calls.to(rpc)) != want {
					t.Errorf("%s called %d times, want %d", rpc, len(e.calls.to(rpc)), want)
				}
			}
			body := w.Body.String()
			if strings.Contains(body, "CUSTOMER_STATUS_") {
				t.Errorf("answer names a value by its proto name: %s", body)
			}
			if tt.wantStatusField != "" && !regexp.MustCompile(`"status":\s*"`+tt.wantStatusField+`"`).MatchString(body) {
				t.Errorf("answer = %s, want status %s", body, tt.wantStatusField)
			}
			if tt.rpc == "ListCustomers" && tt.wantBody == "" && !strings.Contains(strings.ReplaceAll(body, " ", ""), acmeJSON) {
				t.Errorf("list = %s, want Acme with status ACTIVE", body)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
