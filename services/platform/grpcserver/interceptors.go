package grpcserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

type metrics struct {
	handled *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total", Help: "RPCs completed, by method and status code.",
		}, []string{"grpc_method", "grpc_code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grpc_server_handling_seconds", Help: "RPC handling time, by method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"grpc_method"}),
	}
	reg.MustRegister(m.handled, m.latency)
	return m
}

func requestID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(logging.RequestIDMetadata); len(v) > 0 && len(v[0]) <= 64 {
		return v[0]
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// observe logs and counts one finished call; the level follows the code, so
// client mistakes do not read as server faults.
func (m *metrics) observe(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	elapsed := time.Since(start)
	m.handled.WithLabelValues(method, code.String()).Inc()
	m.latency.WithLabelValues(method).Observe(elapsed.Seconds())
	level := slog.LevelDebug
	switch code {
	case codes.OK, codes.NotFound, codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition, codes.Aborted, codes.OutOfRange, codes.Canceled:
	case codes.Unauthenticated, codes.PermissionDenied:
		level = slog.LevelWarn
	default:
		level = slog.LevelError
	}
	attrs := []any{"method", method, "code", code.String(), "duration_ms", float64(elapsed.Microseconds()) / 1000}
	if err != nil {
		attrs = append(attrs, "error", status.Convert(err).Message())
	}
	log.Log(ctx, level, "rpc", attrs...)
}

func withRequest(ctx context.Context, method string) context.Context {
	attrs := []slog.Attr{slog.String("request_id", requestID(ctx))}
	return logging.WithAttrs(ctx, attrs...)
}

func tenantAttr(ctx context.Context) context.Context {
	if t, ok := tenancy.FromContext(ctx); ok {
		return logging.WithAttrs(ctx, slog.String("tenant", t))
	}
	return ctx
}

// recovered turns a panic into INTERNAL and logs the stack; the client never
// sees the panic value.
func recovered(ctx context.Context, log *slog.Logger, method string, err *error) {
	if r := recover(); r != nil {
		log.ErrorContext(ctx, "panic in handler", "method", method, "panic", r, "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, "internal error")
	}
}

func shortMethod(full string) string {
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[i+1:]
	}
	return full
}

// validationError renders protovalidate violations as INVALID_ARGUMENT with
// a BadRequest detail naming every field.
func validationError(err error) error {
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return status.Error(codes.Internal, "internal error")
	}
	br := &errdetails.BadRequest{}
	msgs := make([]string, 0, len(ve.Violations))
	for _, v := range ve.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: field, Description: v.Proto.GetMessage(),
		})
		msgs = append(msgs, field+": "+v.Proto.GetMessage())
	}
	st := status.New(codes.InvalidArgument, "invalid request: "+strings.Join(msgs, "; "))
	if d, derr := st.WithDetails(br); derr == nil {
		st = d
	}
	return st.Err()
}

func unaryChain(log *slog.Logger, m *metrics, policy *tenancy.Policy, v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		ctx = withRequest(ctx, info.FullMethod)
		defer func() { m.observe(ctx, log, shortMethod(info.FullMethod), start, err) }()
		defer recovered(ctx, log, info.FullMethod, &err)
		if ctx, err = policy.Authorize(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		ctx = tenantAttr(ctx)
		if msg, ok := req.(proto.Message); ok {
			if verr := v.Validate(msg); verr != nil {
				return nil, validationError(verr)
			}
		}
		return handler(ctx, req)
	}
}

func streamChain(log *slog.Logger, m *metrics, policy *tenancy.Policy, v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		start := time.Now()
		ctx := withRequest(ss.Context(), info.FullMethod)
		defer func() { m.observe(ctx, log, shortMethod(info.FullMethod), start, err) }()
		defer recovered(ctx, log, info.FullMethod, &err)
		if ctx, err = policy.Authorize(ctx, info.FullMethod); err != nil {
			return err
		}
		ctx = tenantAttr(ctx)
		return handler(srv, &validatingStream{ServerStream: ss, ctx: ctx, v: v})
	}
}

// validatingStream validates each message a client streams in.
type validatingStream struct {
	grpc.ServerStream
	ctx context.Context
	v   protovalidate.Validator
}

func (s *validatingStream) Context() context.Context { return s.ctx }

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if msg, ok := m.(proto.Message); ok {
		if err := s.v.Validate(msg); err != nil {
			return validationError(err)
		}
	}
	return nil
}
