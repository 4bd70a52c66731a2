package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/metadata"

	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/tracing"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the id the gateway gave the request of ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID keeps a caller's id when it is short and plain enough to put in
// logs and gRPC metadata unchanged, and makes one otherwise.
func requestID(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); validRequestID(id) {
		return id
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// withRequestID puts the id where every later step finds it: the gateway's
// own lookups, the log records, and the metadata of the dialects' service
// calls.
func withRequestID(ctx context.Context, id string) context.Context {
	ctx = context.WithValue(ctx, requestIDKey{}, id)
	ctx = logging.WithAttrs(ctx, slog.String("request_id", id))
	return metadata.AppendToOutgoingContext(ctx, logging.RequestIDMetadata, id)
}

// traced gives each request a server span in the trace of its traceparent
// header, named by method and API ("POST native"), when tracing is on; off,
// it returns h itself.
func traced(h http.Handler, t *tracing.Tracing) http.Handler {
	return t.HTTP(h, func(r *http.Request) string {
		name := "gateway"
		if g, ok := h.(*gateway); ok {
			if n, _ := g.route(r.URL.Path); n != "" {
				name = n
			}
		}
		return r.Method + " " + name
	})
}

// recorder remembers the status a handler answered with.
type recorder struct {
	http.ResponseWriter
	status int
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// metrics count requests per dialect; paths are left out on purpose, since
// they hold customer ids and MANEX keys and would grow without bound.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "HTTP requests answered, by dialect, method and status.",
		}, []string{"dialect", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "HTTP request handling time, by dialect.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"dialect"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(dialect, method string, status int, elapsed time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER" // bound the label's values
	}
	m.requests.WithLabelValues(dialect, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(dialect).Observe(elapsed.Seconds())
}

// errorWriter answers in a dialect's error shape.
type errorWriter func(w http.ResponseWriter, r *http.Request, status int, message string)

// recoverPanic turns a handler panic into a 500 in the route's shape when
// nothing has been written yet; the stack goes to the log, never to the
// client. http.ErrAbortHandler keeps its meaning.
func recoverPanic(log *slog.Logger, rec *recorder, r *http.Request, writeError errorWriter) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	log.ErrorContext(r.Context(), "panic in handler", "panic", v, "stack", string(debug.Stack()))
	if rec.status != 0 {
		return
	}
	if writeError == nil {
		http.Error(rec, "internal error", http.StatusInternalServerError)
		return
	}
	writeError(rec, r, http.StatusInternalServerError, "Internal error.")
}

// limitBody reads the body up front, at most max bytes, so an oversized one
// is refused with 413 in the dialect's shape before any handler or decoder
// sees it (a decoder would report a mere syntax error). Bodies are small, so
// holding one in memory costs little.
func limitBody(w http.ResponseWriter, r *http.Request, max int64, writeError errorWriter) bool {
	if r.ContentLength > max {
		writeError(w, r, http.StatusRequestEntityTooLarge, "The request body is larger than "+sizeText(max)+".")
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	_ = r.Body.Close()
	if int64(len(body)) > max {
		writeError(w, r, http.StatusRequestEntityTooLarge, "The request body is larger than "+sizeText(max)+".")
		return false
	}
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "The request body could not be read.")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
