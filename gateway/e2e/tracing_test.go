package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// collector is an OTLP/gRPC trace endpoint, the one a collector serves: it
// keeps every span exported to it, with the service.name of its process.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []span
	added chan struct{}
}

type span struct {
	service string
	*tracepb.Span
}

func (s span) id() string     { return hex.EncodeToString(s.SpanId) }
func (s span) parent() string { return hex.EncodeToString(s.ParentSpanId) }

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, span{service, s})
			}
		}
	}
	c.mu.Unlock()
	select {
	case c.added <- struct{}{}:
	default:
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// trace returns the spans of one trace received so far.
func (c *collector) trace(traceID string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if hex.EncodeToString(s.TraceId) == traceID {
			out = append(out, s)
		}
	}
	return out
}

// await waits until done is true of the trace's spans, or fails t with what
// arrived. The bound is a give-up, not a measurement: spans are exported
// in batches every few tens of milliseconds here.
func (c *collector) await(t *testing.T, traceID string, done func([]span) bool) []span {
	t.Helper()
	giveUp := time.After(time.Minute)
	for {
		spans := c.trace(traceID)
		if done(spans) {
			return spans
		}
		select {
		case <-c.added:
		case <-giveUp:
			t.Fatalf("trace %s incomplete; received:\n%s", traceID, describe(spans))
		}
	}
}

func describe(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %s %q kind %v parent %s\n", s.service, s.id(), s.GetName(), s.GetKind(), s.parent())
	}
	return b.String()
}

// find returns the spans of service whose name and kind match.
func find(spans []span, service string, kind tracepb.Span_SpanKind, name func(string) bool) []span {
	var out []span
	for _, s := range spans {
		if s.service == service && s.GetKind() == kind && name(s.GetName()) {
			out = append(out, s)
		}
	}
	return out
}

func named(n string) func(string) bool { return func(s string) bool { return s == n } }

// peers are the server spans of the services the history calls.
func peers(spans []span) []span {
	var out []span
	for _, s := range spans {
		if s.GetKind() == tracepb.Span_SPAN_KIND_SERVER && (s.service == "customer" || s.service == "ledger") {
			out = append(out, s)
		}
	}
	return out
}

// childrenOf returns the spans of spans whose parent is parent.
func childrenOf(spans []span, parent span) []span {
	var out []span
	for _, s := range spans {
		if s.parent() == parent.id() {
			out = append(out, s)
		}
	}
	return out
}

// parentIn returns the spans of candidates that are s's parent.
func parentIn(s span, candidates []span) []span {
	var out []span
	for _, c := range candidates {
		if c.id() == s.parent() {
			out = append(out, c)
		}
	}
	return out
}

// A request through the gateway with a W3C traceparent makes one trace
// across the processes: the gateway's server span is the caller's child,
// its client span to the ledger the parent of the ledger's server span, and
// the ledger's database work hangs below that — for a posting, the
// group-commit span and the transaction from BEGIN to COMMIT; a history
// read goes one hop further, from the history to its peers. Every span of the gateway
// and the serving service has its parent in the trace; their log lines for
// the request carry the trace id and their span's id.
func TestTraceAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	col := &collector{added: make(chan struct{}, 1)}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, col)
	go srv.Serve(lis)
	defer srv.Stop()

	dbURL, drop, err := newDatabase(ctx, "abacus_trace_")
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	logDir := t.TempDir()
	procs, err := startProcs(ctx, sys.binDir, logDir, dbURL, sys.token, nil,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+lis.Addr().String(), "OTEL_BSP_SCHEDULE_DELAY=20")
	if procs != nil {
		defer procs.Stop()
	}
	if err != nil {
		t.Fatal(withLogs(logDir, err))
	}
	defer func() {
		if t.Failed() {
			t.Log(procs.Logs(1 << 16))
		}
	}()

	conn, err := grpc.NewClient(procs.Addr("customer"), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(sys.token)...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin := customerv1.NewTenantAdminServiceClient(conn)
	tr, err := admin.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: "Traced", Company: "traced-" + randomHex(4)})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := admin.CreateCredential(ctx, &customerv1.CreateCredentialRequest{TenantId: tr.GetTenant().GetTenantId(), Kind: customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO})
	if err != nil {
		t.Fatal(err)
	}
	auth := basicAuth(cr.GetCredential().GetIdentifier(), cr.GetSecret())
	gw := procs.Gateway()
	do := func(t *testing.T, method, path, traceparent, body string) []byte {
		t.Helper()
		h := map[string]string{}
		for k, v := range auth {
			h[k] = v
		}
		if traceparent != "" {
			h["traceparent"] = traceparent
		}
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		code, raw, err := httpDo(ctx, method, gw+path, h, b)
		if err != nil || code != 200 {
			t.Fatalf("%s %s: %d %s %v", method, path, code, raw, err)
		}
		return raw
	}
	var created struct {
		Customer struct {
			ID int32 `json:"customer_id"`
		} `json:"customer"`
	}
	if err := json.Unmarshal(do(t, "POST", "/v1/customers", "", `{"name":"Traced","status":"CUSTOMER_STATUS_ACTIVE"}`), &created); err != nil {
		t.Fatal(err)
	}
	customer := created.Customer.ID

	cases := []struct {
		name, method, path, body string
		service, rpc             string // the service that serves the request, and its RPC
		// more, when set, is true once the spans of the other processes
		// the check needs have arrived.
		more func(spans []span) bool
		// check checks the spans below the serving service's server span.
		check func(t *testing.T, spans []span, server span)
	}{
		{"read", "GET", fmt.Sprintf("/v1/customers/%d/balances", customer), "",
			"ledger", "abacus.ledger.v1.LedgerService/GetBalances", nil,
			func(t *testing.T, spans []span, ledger span) {
				if len(childrenOf(find(spans, "ledger", tracepb.Span_SPAN_KIND_CLIENT, named("SELECT")), ledger)) == 0 {
					t.Errorf("no statement span below the ledger's server span")
				}
			}},
		{"posting", "POST", fmt.Sprintf("/v1/customers/%d/entries", customer),
			`{"currency":"USD","kind":"PAYMENT","amount":"12.34","comment":"traced"}`,
			"ledger", "abacus.ledger.v1.LedgerService/PostEntry", nil,
			func(t *testing.T, spans []span, ledger span) {
				group := childrenOf(find(spans, "ledger", tracepb.Span_SPAN_KIND_INTERNAL, named("ledger.post_group")), ledger)
				if len(group) != 1 {
					t.Fatalf("group-commit spans below the ledger's server span: %d, want 1", len(group))
				}
				tx := childrenOf(find(spans, "ledger", tracepb.Span_SPAN_KIND_CLIENT, named("db.transaction")), group[0])
				if len(tx) != 1 {
					t.Fatalf("transaction spans below the group-commit span: %d, want 1", len(tx))
				}
				for _, stmt := range []string{"BEGIN", "SELECT", "COMMIT"} {
					if s := childrenOf(find(spans, "ledger", tracepb.Span_SPAN_KIND_CLIENT, named(stmt)), tx[0]); len(s) == 0 {
						t.Errorf("no %s span below the transaction span", stmt)
					}
				}
				if tx[0].GetStartTimeUnixNano() > tx[0].GetEndTimeUnixNano() {
					t.Errorf("the transaction span ends before it starts")
				}
			}},
		// A history read asks the customer service (the tenant) and the
		// ledger (how far it has posted) first: one hop further.
		{"history", "GET", fmt.Sprintf("/v1/customers/%d/history", customer), "",
			"history", "abacus.history.v1.HistoryService/ListHistory",
			func(spans []span) bool { return len(peers(spans)) > 0 },
			func(t *testing.T, spans []span, history span) {
				calls := childrenOf(find(spans, "history", tracepb.Span_SPAN_KIND_CLIENT, func(n string) bool { return strings.HasPrefix(n, "abacus.") }), history)
				if len(calls) == 0 {
					t.Fatal("the history called no service below its server span")
				}
				for _, p := range peers(spans) {
					if len(parentIn(p, calls)) == 0 {
						t.Errorf("%s server span %q: parent %s is none of the history's calls", p.service, p.GetName(), p.parent())
					}
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			traceID, callerSpan := randomHex(16), randomHex(8)
			do(t, tc.method, tc.path, "00-"+traceID+"-"+callerSpan+"-01", tc.body)
			isRPC := named(tc.rpc)
			spans := col.await(t, traceID, func(spans []span) bool {
				return len(find(spans, "gateway", tracepb.Span_SPAN_KIND_SERVER, func(string) bool { return true })) == 1 &&
					len(find(spans, "gateway", tracepb.Span_SPAN_KIND_CLIENT, isRPC)) == 1 &&
					len(find(spans, tc.service, tracepb.Span_SPAN_KIND_SERVER, isRPC)) == 1 &&
					(tc.more == nil || tc.more(spans))
			})
			// A process exports its spans in the order they end, and the
			// serving service's other spans end before its server span:
			// they are all here.
			server := find(spans, tc.service, tracepb.Span_SPAN_KIND_SERVER, isRPC)[0]
			gwServer := find(spans, "gateway", tracepb.Span_SPAN_KIND_SERVER, func(string) bool { return true })[0]
			gwClient := find(spans, "gateway", tracepb.Span_SPAN_KIND_CLIENT, isRPC)[0]
			if gwServer.parent() != callerSpan {
				t.Errorf("gateway server span's parent %s, want the caller's %s", gwServer.parent(), callerSpan)
			}
			if want := tc.method + " native"; gwServer.GetName() != want {
				t.Errorf("gateway server span %q, want %q", gwServer.GetName(), want)
			}
			if gwClient.parent() != gwServer.id() {
				t.Errorf("gateway client span's parent %s, want the gateway server span %s", gwClient.parent(), gwServer.id())
			}
			if server.parent() != gwClient.id() {
				t.Errorf("%s server span's parent %s, want the gateway client span %s", tc.service, server.parent(), gwClient.id())
			}
			// Every span of the two processes whose spans are all here has
			// its parent in the trace.
			ids := map[string]bool{callerSpan: true}
			for _, s := range spans {
				ids[s.id()] = true
			}
			for _, s := range spans {
				if (s.service == "gateway" || s.service == tc.service) && !ids[s.parent()] {
					t.Errorf("%s span %q has parent %s, which is not in the trace", s.service, s.GetName(), s.parent())
				}
			}
			tc.check(t, spans, server)
			if t.Failed() {
				t.Logf("trace:\n%s", describe(spans))
			}

			// The log lines of the request.
			checkLog(t, procs.Proc("gateway").LogPath, traceID, "http request", gwServer.id())
			checkLog(t, procs.Proc(tc.service).LogPath, traceID, "rpc", server.id())
		})
	}
}

// checkLog finds the line msg of the trace in a process's JSON log: it must
// carry the span id spanID, and every line of the trace a span id.
func checkLog(t *testing.T, path, traceID, msg, spanID string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["trace_id"] != traceID {
			continue
		}
		if id, _ := line["span_id"].(string); len(id) != 16 {
			t.Errorf("%s: a line of the trace without a span id: %s", path, sc.Text())
		}
		if line["msg"] == msg && line["span_id"] == spanID {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no %q line with trace_id %s and span_id %s", path, msg, traceID, spanID)
	}
}

// Without an OTLP endpoint (the shared stack's processes) nothing traces: a
// request with a traceparent is logged without trace or span ids.
func TestTracingOffByDefault(t *testing.T) {
	t.Parallel()
	id := "trace-off-" + randomHex(6)
	code, raw, err := httpDo(t.Context(), "GET", sys.gateway+"/healthz", map[string]string{
		"traceparent":  "00-" + randomHex(16) + "-" + randomHex(8) + "-01",
		"X-Request-Id": id,
	}, nil)
	if err != nil || code != 200 {
		t.Fatalf("/healthz: %d %s %v", code, raw, err)
	}
	// The line is written once the handler returns, which may be just
	// after the answer: wait for it.
	giveUp := time.Now().Add(time.Minute)
	for {
		line, found := logLine(t, sys.Proc("gateway").LogPath, "request_id", id)
		if found {
			if _, ok := line["trace_id"]; ok {
				t.Errorf("tracing is off, yet the request's log line has a trace id: %v", line)
			}
			if _, ok := line["span_id"]; ok {
				t.Errorf("tracing is off, yet the request's log line has a span id: %v", line)
			}
			return
		}
		if time.Now().After(giveUp) {
			t.Fatalf("no log line with request_id %s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logLine returns the first line of a JSON log whose key has value.
func logLine(t *testing.T, path, key, value string) (map[string]any, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line[key] == value {
			return line, true
		}
	}
	return nil, false
}
