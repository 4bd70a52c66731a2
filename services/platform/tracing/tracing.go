// Package tracing is OpenTelemetry for every Abacus process: W3C trace
// context taken from incoming HTTP requests and carried over every gRPC
// hop, spans for each HTTP request, each RPC (both sides) and each database
// transaction and statement, trace and span ids in the log lines, and the
// spans exported over OTLP/gRPC.
//
// Tracing is off unless an OTLP endpoint is configured. Off, Setup returns
// a nil *Tracing, and every method of a nil *Tracing installs nothing: no
// gRPC stats handler, no HTTP middleware, no pgx tracer, no log field. The
// decision is taken once, at start-up.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/abacus-ledger/abacus/services/platform/logging"
)

// Config holds the standard OpenTelemetry variables that Abacus reads. The
// exporter reads the other OTEL_EXPORTER_OTLP_* variables itself (headers,
// certificates, timeout, insecure), and the SDK the OTEL_BSP_* ones.
// They are environment only: a flag would not reach the exporter.
type Config struct {
	Endpoint       string `env:"OTEL_EXPORTER_OTLP_ENDPOINT" help:"OTLP/gRPC collector URL (http://host:4317 for plain text); tracing is off when neither this nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set"`
	TracesEndpoint string `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" help:"OTLP/gRPC collector URL for traces only; overrides OTEL_EXPORTER_OTLP_ENDPOINT"`
	ServiceName    string `env:"OTEL_SERVICE_NAME" help:"service.name of the spans; empty: the binary's name"`
	Sampler        string `env:"OTEL_TRACES_SAMPLER" help:"standard sampler name; empty: the gateway traces every HTTP request, the services only the calls that arrive traced"`
	Disabled       bool   `env:"OTEL_SDK_DISABLED" help:"true turns tracing off even with an endpoint set"`
}

// Enabled reports whether cfg asks for tracing.
func (c Config) Enabled() bool {
	return !c.Disabled && (c.Endpoint != "" || c.TracesEndpoint != "")
}

// Role says where a process stands: the edge starts a trace for each
// request that arrives without one (and for nothing else: its background
// calls, such as the gateway's credential stream, make none); an inner
// service only continues the traces its callers send, so its background
// work (pollers, projections, probes) makes none.
type Role int

// The roles.
const (
	Edge Role = iota
	Inner
)

// Tracing is a process's tracing, on. A nil *Tracing is tracing off.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	db         *DBTracer
}

// Setup returns the process's tracing, or nil (off) when cfg configures no
// exporter. service names the binary (the default service.name).
func Setup(ctx context.Context, cfg Config, service string, role Role) (*Tracing, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	return newTracing(cfg, service, role, sdktrace.WithBatcher(exp))
}

// newTracing builds the provider around an exporter option (tests use a
// synchronous in-memory one).
func newTracing(cfg Config, service string, role Role, export sdktrace.TracerProviderOption) (*Tracing, error) {
	name := cfg.ServiceName
	if name == "" {
		name = service
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{export, sdktrace.WithResource(res)}
	// The SDK reads OTEL_TRACES_SAMPLER itself; an option would override it.
	if cfg.Sampler == "" {
		root := sdktrace.Sampler(serverRoots{})
		if role == Inner {
			root = sdktrace.NeverSample()
		}
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(root)))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t := &Tracing{
		provider:   tp,
		tracer:     tp.Tracer("github.com/abacus-ledger/abacus/services/platform/tracing"),
		propagator: propagation.TraceContext{},
	}
	t.db = &DBTracer{tracer: t.tracer}
	return t, nil
}

// serverRoots samples a new trace for a server span only: the edge's
// request spans, not the client spans of its background calls.
type serverRoots struct{}

func (serverRoots) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	ts := trace.SpanContextFromContext(p.ParentContext).TraceState()
	if p.Kind == trace.SpanKindServer {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: ts}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: ts}
}

func (serverRoots) Description() string { return "ServerRoots" }

// Enabled reports whether tracing is on.
func (t *Tracing) Enabled() bool { return t != nil }

// LogErrors sends the SDK's own errors (an export the collector refused or
// never answered) to log as warnings, instead of the standard logger's
// plain lines on stderr. OpenTelemetry keeps one error handler per process.
func (t *Tracing) LogErrors(log *slog.Logger) {
	if t == nil {
		return
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing", "error", err.Error())
	}))
}

// Shutdown exports the spans still buffered and stops the exporter, within
// a few seconds of its own: it runs as the process ends, when the
// process's context is done already.
func (t *Tracing) Shutdown() error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.provider.Shutdown(ctx)
}

func (t *Tracing) otelgrpcOptions() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(t.provider),
		otelgrpc.WithPropagators(t.propagator),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()), // metrics are Prometheus's
	}
}

// ServerOptions are the gRPC server's: a server span for every call but
// health checks, child of the caller's span. Nil when off.
func (t *Tracing) ServerOptions() []grpc.ServerOption {
	if t == nil {
		return nil
	}
	opts := append(t.otelgrpcOptions(), otelgrpc.WithFilter(filters.Not(filters.HealthCheck())))
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))}
}

// DialOptions are a client connection's: a client span for every call,
// whose context goes to the server in the traceparent metadata. Nil when
// off.
func (t *Tracing) DialOptions() []grpc.DialOption {
	if t == nil {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(t.otelgrpcOptions()...))}
}

// LogOptions make the logger add trace_id and span_id to every record
// logged with a context that holds a span. Nil when off.
func (t *Tracing) LogOptions() []logging.Option {
	if t == nil {
		return nil
	}
	return []logging.Option{logging.WithSpan(spanIDs)}
}

func spanIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}

// Database is the pgx tracer of the process's pools, nil when off.
func (t *Tracing) Database() *DBTracer {
	if t == nil {
		return nil
	}
	return t.db
}

// HTTP wraps an HTTP handler: it continues the trace of the request's W3C
// traceparent header (or starts one) with a server span named by name(r),
// which must have few distinct values (no ids). Off, it returns next.
// Neither the path nor the query is recorded: they may carry keys.
func (t *Tracing) HTTP(next http.Handler, name func(*http.Request) string) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, name(r), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method)))
		defer span.End()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Joiner is Join as a function for packages that must not link tracing
// (a domain package), nil when off.
func (t *Tracing) Joiner() func(ctx context.Context, name string, callers []context.Context) (context.Context, func(error)) {
	if t == nil {
		return nil
	}
	return t.Join
}

// Join starts a span for work done at once for several callers, such as a
// group-commit transaction: its parent is the first caller whose context
// holds a recording span, and it links to every caller's span, so each
// caller's trace leads to it. With no traced caller, or tracing off, it
// returns ctx and a no-op end.
func (t *Tracing) Join(ctx context.Context, name string, callers []context.Context) (context.Context, func(err error)) {
	if t == nil {
		return ctx, func(error) {}
	}
	var parent trace.SpanContext
	var links []trace.Link
	for _, c := range callers {
		s := trace.SpanFromContext(c)
		if !s.IsRecording() {
			continue
		}
		if !parent.IsValid() {
			parent = s.SpanContext()
			continue
		}
		links = append(links, trace.Link{SpanContext: s.SpanContext()})
	}
	if !parent.IsValid() {
		return ctx, func(error) {}
	}
	ctx, span := t.tracer.Start(trace.ContextWithSpanContext(ctx, parent), name,
		trace.WithLinks(links...), trace.WithAttributes(attribute.Int("abacus.callers", len(callers))))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errText(err))
		}
		span.End()
	}
}

// errText is an error's first line, bounded: enough to find the log line.
func errText(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
