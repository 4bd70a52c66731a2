package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// Off — no endpoint, or the SDK disabled — Setup installs nothing: each
// hook is nil, the HTTP handler is the one given, and a pool opened the
// way app.Setup opens it has no tracer.
func TestOffInstallsNothing(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"no endpoint":  {ServiceName: "x", Sampler: "always_on"},
		"sdk disabled": {Endpoint: "http://127.0.0.1:4317", Disabled: true},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := Setup(t.Context(), cfg, "x", Edge)
			if err != nil || tr != nil {
				t.Fatalf("Setup = %v, %v; want nil, nil", tr, err)
			}
			if tr.Enabled() {
				t.Error("Enabled() = true")
			}
			if o := tr.ServerOptions(); o != nil {
				t.Errorf("ServerOptions() = %v", o)
			}
			if o := tr.DialOptions(); o != nil {
				t.Errorf("DialOptions() = %v", o)
			}
			if o := tr.LogOptions(); o != nil {
				t.Errorf("LogOptions() = %v", o)
			}
			if d := tr.Database(); d != nil {
				t.Errorf("Database() = %v", d)
			}
			h := http.NewServeMux()
			called := false
			got := tr.HTTP(h, func(*http.Request) string { called = true; return "x" })
			if got != http.Handler(h) {
				t.Errorf("HTTP(h) = %T, want h itself", got)
			}
			ctx, end := tr.Join(t.Context(), "x", []context.Context{t.Context()})
			end(errors.New("x"))
			if ctx != t.Context() || called {
				t.Error("Join or HTTP did work while off")
			}
			if err := tr.Shutdown(); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}

// On, each hook is there.
func TestOnInstallsHooks(t *testing.T) {
	t.Parallel()
	tr, err := Setup(t.Context(), Config{Endpoint: "http://127.0.0.1:1"}, "x", Inner)
	if err != nil || tr == nil {
		t.Fatalf("Setup = %v, %v", tr, err)
	}
	defer tr.Shutdown()
	if len(tr.ServerOptions()) != 1 || len(tr.DialOptions()) != 1 || len(tr.LogOptions()) != 1 || tr.Database() == nil {
		t.Error("a hook is missing while on")
	}
}

// recorder is tracing on, its spans kept in memory as they end.
func recorder(t *testing.T, role Role) (*Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := newTracing(Config{}, "test", role, sdktrace.WithSyncer(exp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown() })
	return tr, exp
}

func byName(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func one(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	got := byName(spans, name)
	if len(got) != 1 {
		t.Fatalf("%d spans named %q, want 1; all: %v", len(got), name, names(spans))
	}
	return got[0]
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// The HTTP middleware continues the trace of a W3C traceparent header, and
// the log lines written inside carry its trace id and the server span's id.
func TestHTTPContinuesTraceparentAndLogs(t *testing.T) {
	t.Parallel()
	tr, exp := recorder(t, Edge)
	var buf bytes.Buffer
	log, err := logging.New(&buf, "test", "info", tr.LogOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	h := tr.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	}), func(r *http.Request) string { return r.Method + " test" })
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/secret/key", nil)
	const traceID, parentID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	s := one(t, exp.GetSpans(), "GET test")
	if s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != parentID || s.SpanKind != trace.SpanKindServer {
		t.Errorf("span trace %s parent %s kind %v; want trace %s parent %s, server", s.SpanContext.TraceID(), s.Parent.SpanID(), s.SpanKind, traceID, parentID)
	}
	for _, a := range s.Attributes {
		if strings.Contains(a.Value.String(), "secret") {
			t.Errorf("the path is recorded in %s", a.Key)
		}
		if a.Key == "http.response.status_code" && a.Value.AsInt64() != http.StatusTeapot {
			t.Errorf("status %d", a.Value.AsInt64())
		}
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if line["trace_id"] != traceID || line["span_id"] != s.SpanContext.SpanID().String() {
		t.Errorf("log line %v: want trace_id %s span_id %s", line, traceID, s.SpanContext.SpanID())
	}
}

// An inner service starts no trace of its own: without a traced caller,
// nothing is recorded.
func TestInnerStartsNoTrace(t *testing.T) {
	t.Parallel()
	tr, exp := recorder(t, Inner)
	h := tr.HTTP(http.NotFoundHandler(), func(*http.Request) string { return "x" })
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Errorf("spans without a traced caller: %v", names(spans))
	}
}

// The edge starts a trace for a request (a server span), not for a call
// of its own made without one (its background streams).
func TestEdgeStartsTracesOnlyForRequests(t *testing.T) {
	t.Parallel()
	tr, exp := recorder(t, Edge)
	_, bg := tr.tracer.Start(t.Context(), "background", trace.WithSpanKind(trace.SpanKindClient))
	bg.End()
	h := tr.HTTP(http.NotFoundHandler(), func(*http.Request) string { return "request" })
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got := names(exp.GetSpans()); len(got) != 1 || got[0] != "request" {
		t.Errorf("spans %v, want the request's alone", got)
	}
}

// Join's span is a child of the first traced caller and links the others.
func TestJoin(t *testing.T) {
	t.Parallel()
	tr, exp := recorder(t, Edge)
	tracer := tr.provider.Tracer("test")
	server := trace.WithSpanKind(trace.SpanKindServer)
	a, sa := tracer.Start(t.Context(), "a", server)
	b, sb := tracer.Start(t.Context(), "b", server)
	_, end := tr.Join(t.Context(), "group", []context.Context{t.Context(), a, b})
	end(errors.New("refused"))
	sa.End()
	sb.End()
	g := one(t, exp.GetSpans(), "group")
	if g.Parent.SpanID() != sa.SpanContext().SpanID() || g.SpanContext.TraceID() != sa.SpanContext().TraceID() {
		t.Errorf("group's parent %s, want a's span %s", g.Parent.SpanID(), sa.SpanContext().SpanID())
	}
	if len(g.Links) != 1 || g.Links[0].SpanContext.SpanID() != sb.SpanContext().SpanID() {
		t.Errorf("group's links %v, want b's span", g.Links)
	}
	if g.Status.Description != "refused" {
		t.Errorf("status %v", g.Status)
	}
}

// Against a real PostgreSQL: a transaction is one span from BEGIN to
// COMMIT or ROLLBACK, its statements children of it, whether sent one by
// one or in a batch; statements outside a transaction are children of the
// caller's span; a caller without a span makes no span.
func TestDatabaseSpans(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "tracing", func(context.Context, string) error { return nil })
	tr, exp := recorder(t, Edge)
	ctx := t.Context()
	pool, err := database.Open(ctx, database.Config{URL: url, MaxConns: 2}, "tracing-test", database.WithTracer(tr.Database()))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if pool.Config().ConnConfig.Tracer == nil {
		t.Fatal("WithTracer installed no tracer")
	}
	plain, err := database.Open(ctx, database.Config{URL: url, MaxConns: 1}, "tracing-test")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.Config().ConnConfig.Tracer != nil {
		t.Error("a pool opened without WithTracer has a tracer")
	}

	// Untraced: nothing.
	if err := database.Ping(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Fatalf("spans without a traced caller: %v", names(spans))
	}

	root, span := tr.provider.Tracer("test").Start(ctx, "request", trace.WithSpanKind(trace.SpanKindServer))
	if err := database.Ping(root, pool); err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(root, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(root, "CREATE TABLE t (n int)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	err = pgx.BeginFunc(root, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(root, "INSERT INTO t VALUES (1)"); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("INSERT INTO t VALUES (2)")
	b.Queue("COMMIT")
	b.Queue("SELECT count(*) FROM t")
	if err := pool.SendBatch(root, b).Close(); err != nil {
		t.Fatal(err)
	}
	span.End()

	spans := exp.GetSpans()
	req := one(t, spans, "request").SpanContext
	txs := byName(spans, "db.transaction")
	if len(txs) != 3 {
		t.Fatalf("%d transaction spans, want 3; all: %v", len(txs), names(spans))
	}
	for i, tx := range txs {
		if tx.Parent.SpanID() != req.SpanID() || tx.SpanContext.TraceID() != req.TraceID() {
			t.Errorf("transaction %d: parent %s, want the request's span", i, tx.Parent.SpanID())
		}
		if failed := tx.Status.Code.String() == "Error"; failed != (i == 1) {
			t.Errorf("transaction %d: status %v", i, tx.Status)
		}
	}
	parentOf := func(name string) []trace.SpanID {
		var out []trace.SpanID
		for _, s := range byName(spans, name) {
			out = append(out, s.Parent.SpanID())
		}
		return out
	}
	want := map[string][]trace.SpanID{
		"CREATE":   {txs[0].SpanContext.SpanID()},
		"INSERT":   {txs[1].SpanContext.SpanID(), txs[2].SpanContext.SpanID()},
		"ROLLBACK": {txs[1].SpanContext.SpanID()},
		"COMMIT":   {txs[0].SpanContext.SpanID(), txs[2].SpanContext.SpanID()},
		"BEGIN":    {txs[0].SpanContext.SpanID(), txs[1].SpanContext.SpanID(), txs[2].SpanContext.SpanID()},
		"SELECT":   {req.SpanID(), req.SpanID()}, // the ping and the batch's count
	}
	for name, w := range want {
		got := parentOf(name)
		if len(got) != len(w) {
			t.Errorf("%s: %d spans, want %d", name, len(got), len(w))
			continue
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%s #%d: parent %s, want %s", name, i, got[i], w[i])
			}
		}
	}
}
