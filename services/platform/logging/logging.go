// Package logging builds the JSON slog logger every Abacus process uses.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// RequestIDMetadata is the gRPC metadata key that carries a request's id
// from one Abacus process to the next, so that their log lines of one
// request share it: the gateway sends its own, and a server makes one up
// when a call comes without.
const RequestIDMetadata = "x-request-id"

// Option changes what New's logger writes.
type Option func(*contextHandler)

// SpanIDs reads the trace and span ids of the span a context holds; ok is
// false when it holds none.
type SpanIDs func(ctx context.Context) (traceID, spanID string, ok bool)

// WithSpan adds trace_id and span_id, as ids reads them, to every record
// logged with a context that holds a span. The tracing package supplies
// ids, and only while tracing is on: off, the logger looks for no span.
func WithSpan(ids SpanIDs) Option {
	return func(h *contextHandler) { h.spanIDs = ids }
}

// New returns a JSON logger writing to w at the named level (debug, info,
// warn, error), tagged with the service name.
func New(w io.Writer, service, level string, opts ...Option) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	h := contextHandler{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})}
	for _, o := range opts {
		o(&h)
	}
	return slog.New(h).With("service", service), nil
}

type ctxKey struct{}

// WithAttrs returns a context whose log records carry attrs, such as the
// request id and tenant; handlers log with the *Context methods.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, ctxKey{}, all)
}

// contextHandler adds the attributes stored by WithAttrs to each record,
// and the span's ids when spanIDs is set.
type contextHandler struct {
	slog.Handler
	spanIDs SpanIDs
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(ctxKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	if h.spanIDs != nil {
		if traceID, spanID, ok := h.spanIDs(ctx); ok {
			r.AddAttrs(slog.String("trace_id", traceID), slog.String("span_id", spanID))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs), h.spanIDs}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name), h.spanIDs}
}
