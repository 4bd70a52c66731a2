package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/abacus-ledger/abacus/proto/openapi"
)

func TestProbes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		notServing string
		target     string
		wantStatus int
		wantBody   string
	}{
		{"liveness", "", "/healthz", http.StatusOK, `{"status":"ok"}`},
		{"liveness ignores services", "ledger", "/healthz", http.StatusOK, `{"status":"ok"}`},
		{"ready", "", "/readyz", http.StatusOK,
			`{"status":"ok","services":{"customer":"SERVING","ledger":"SERVING","history":"SERVING"}}`},
		{"ledger not serving", "ledger", "/readyz", http.StatusServiceUnavailable,
			`{"status":"unavailable","services":{"customer":"SERVING","ledger":"NOT_SERVING","history":"SERVING"}}`},
		{"history not serving", "history", "/readyz", http.StatusServiceUnavailable,
			`{"status":"unavailable","services":{"customer":"SERVING","ledger":"SERVING","history":"NOT_SERVING"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			if tt.notServing != "" {
				e.health[tt.notServing].SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
			}
			checkAnswer(t, e.serve(http.MethodGet, tt.target, nil, nil), tt.wantStatus, tt.wantBody, nil)
		})
	}
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	w := e.serve(http.MethodGet, "/openapi.json", nil, nil)
	checkAnswer(t, w, http.StatusOK, string(openapi.Document), map[string]string{"Content-Type": "application/json"})
}

// TestBodyLimit sends bodies one byte over 1 MiB, with a length and
// streamed (no length), and expects 413 in each API's shape.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", DefaultMaxBodyBytes+1)
	tests := []struct {
		name     string
		method   string
		target   string
		header   map[string]string
		wantBody string
	}{
		{"native", http.MethodPost, "/v1/customers", basic("mage", "mage-key"),
			`{"code":8,"message":"The request body is larger than 1 MiB.","details":[]}`},
		{"exigo", http.MethodPatch, "/3.0/customers/extended", basic("jdoe@acme", "exigo-pw"),
			exigoFailure(false, "The request body is larger than 1 MiB.")},
		{"manex", http.MethodPost, "/API/Customer/Add/K123456789", nil,
			`{"$id":"1","Message":"The request body is larger than 1 MiB."}`},
		{"magento", http.MethodGet, "/api/rest/customers/4/storecredit/history", basic("mage", "mage-key"),
			`{"messages":{"error":[{"code":413,"message":"The request body is larger than 1 MiB."}]}}`},
		{"igsend", http.MethodGet, "/services/clientbalance/?ClientID=7", basic("pub-live", "priv-live"),
			`{"coreRes":{"status":2,"Message":"The request body is larger than 1 MiB.","MessageID":10000},"tableRes":[]}`},
	}
	for _, tt := range tests {
		for _, streamed := range []bool{false, true} {
			name := tt.name
			if streamed {
				name += " streamed"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, envOptions{})
				var body io.Reader = strings.NewReader(big)
				if streamed {
					body = io.MultiReader(body) // hides the length
				}
				w := e.serve(tt.method, tt.target, tt.header, body)
				checkAnswer(t, w, http.StatusRequestEntityTooLarge, tt.wantBody, nil)
				if n := len(e.calls.to("Authenticate")); n != 0 {
					t.Errorf("Authenticate called %d times for an oversized request", n)
				}
			})
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"kept", "abc-123.x_y:z", true},
		{"missing", "", false},
		{"unsafe characters", "abc 123\"", false},
		{"too long", strings.Repeat("a", 65), false},
	}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			w := e.serve(http.MethodGet, "/3.0/customers/balances?customerID=7",
				with(basic("jdoe@acme", "exigo-pw"), "X-Request-Id", tt.sent), nil)
			got := w.Header().Get("X-Request-Id")
			if tt.keep && got != tt.sent || !tt.keep && !generated.MatchString(got) {
				t.Fatalf("X-Request-Id = %q (sent %q)", got, tt.sent)
			}
			calls := e.calls.to("GetBalances")
			if len(calls) != 1 {
				t.Fatalf("GetBalances called %d times", len(calls))
			}
			if md := calls[0].md.Get("x-request-id"); len(md) != 1 || md[0] != got {
				t.Errorf("x-request-id metadata = %q, want [%q]", md, got)
			}
		})
	}
}

func TestRequestLogHidesSecrets(t *testing.T) {
	t.Parallel()
	var logs safeBuffer
	e := newEnv(t, envOptions{})
	h, err := NewHandler(e.conns, HandlerConfig{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	auth := basic("mage", "mage-key")["Authorization"]
	for _, target := range []string{"/API/Customer/Get/K123456789?CustNumOrName=Acme", "/v1/customers/42", "/v1/customers/42?x=" + strings.TrimPrefix(auth, "Basic ")} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Authorization", auth)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	out := logs.String()
	for _, secret := range []string{"K123456789", "mage-key", strings.TrimPrefix(auth, "Basic ")} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"path":"/API/Customer/Get/*****"`) {
		t.Errorf("log lacks the redacted MANEX path:\n%s", out)
	}
}

// safeBuffer is a bytes.Buffer the handler's goroutines may share.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		writeError errorWriter
		wantBody   string
	}{
		{"dialect shape", func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"`+msg+`"}`)
		}, `{"error":"Internal error."}`},
		{"no dialect", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			rec := &recorder{ResponseWriter: w}
			func() {
				defer recoverPanic(slog.New(slog.DiscardHandler), rec, httptest.NewRequest(http.MethodGet, "/", nil), tt.writeError)
				panic("boom")
			}()
			checkAnswer(t, w, http.StatusInternalServerError, tt.wantBody, nil)
		})
	}
}

// TestRun runs the real server against fake services on TCP ports, learns
// its addresses through Started, and stops it by cancelling the context.
func TestRun(t *testing.T) {
	t.Parallel()
	s := startServices(t, func(string) net.Listener {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return lis
	})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			HTTPAddr:     "127.0.0.1:0",
			AdminAddr:    "127.0.0.1:0",
			CustomerAddr: s.lis["customer"].Addr().String(),
			LedgerAddr:   s.lis["ledger"].Addr().String(),
			HistoryAddr:  s.lis["history"].Addr().String(),
			ServiceToken: testServiceToken,
			Started:      func(api, admin net.Addr) { started <- [2]net.Addr{api, admin} },
		})
	}()
	var addrs [2]net.Addr
	select {
	case addrs = <-started:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	}
	if addrs[1] == nil {
		t.Fatal("Started reported no admin address")
	}
	api, admin := "http://"+addrs[0].String(), "http://"+addrs[1].String()
	ready := `{"status":"ok","services":{"customer":"SERVING","ledger":"SERVING","history":"SERVING"}}`
	// The admin port serves what the services' admin ports serve; profiles
	// are served there only, never on the public port.
	for _, tt := range []struct {
		url      string
		want     int
		wantBody string // JSON, compared semantically; "" for any
	}{
		{api + "/healthz", http.StatusOK, `{"status":"ok"}`},
		{api + "/readyz", http.StatusOK, ready},
		{api + "/debug/pprof/", http.StatusNotFound, ""},
		{admin + "/livez", http.StatusOK, `{"status":"ok"}`},
		{admin + "/readyz", http.StatusOK, ready},
		{admin + "/debug/pprof/", http.StatusOK, ""},
		{admin + "/debug/pprof/goroutine?debug=1", http.StatusOK, ""},
		{admin + "/metrics", http.StatusOK, ""},
	} {
		get(t, tt.url, tt.want, tt.wantBody)
	}
	if body := get(t, admin+"/metrics", http.StatusOK, ""); !strings.Contains(body, "go_goroutines") {
		t.Errorf("admin /metrics lacks go_goroutines:\n%.500s", body)
	}
	// Readiness follows the services on both ports alike.
	s.health["ledger"].SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	notReady := `{"status":"unavailable","services":{"customer":"SERVING","ledger":"NOT_SERVING","history":"SERVING"}}`
	get(t, api+"/readyz", http.StatusServiceUnavailable, notReady)
	get(t, admin+"/readyz", http.StatusServiceUnavailable, notReady)
	get(t, admin+"/livez", http.StatusOK, `{"status":"ok"}`)
	s.health["ledger"].SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	req, _ := http.NewRequest(http.MethodGet, api+"/v1/customers/42", nil)
	req.SetBasicAuth("mage", "mage-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/customers/42 = %d, want 200", resp.StatusCode)
	}
	if got := s.calls.to("GetCustomer"); len(got) != 1 || got[0].md.Get("x-abacus-tenant")[0] != "t-magento" {
		t.Errorf("GetCustomer calls = %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}

// get fetches url over the network and checks its status and, when
// wantJSON is given, its JSON body; it returns the body.
func get(t *testing.T, url string, want int, wantJSON string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != want {
		t.Errorf("GET %s = %d, want %d: %.300s", url, resp.StatusCode, want, body)
	}
	if wantJSON != "" {
		jsonEqual(t, wantJSON, body)
	}
	return string(body)
}

func TestRunRefusesEmptyToken(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), Options{HTTPAddr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "ABACUS_SERVICE_TOKEN") {
		t.Fatalf("Run = %v, want an error naming ABACUS_SERVICE_TOKEN", err)
	}
}
