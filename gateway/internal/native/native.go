// Package native serves the /v1 REST API generated from the service protos'
// google.api.http annotations, behind HTTP Basic authentication with any of
// the tenant's credentials. Errors are google.rpc.Status JSON.
package native

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
)

// Clients are the services the native API exposes.
type Clients struct {
	Customer customerv1.CustomerServiceClient
	Ledger   ledgerv1.LedgerServiceClient
	History  historyv1.HistoryServiceClient
}

// Handler is the native API.
type Handler struct {
	mux       *runtime.ServeMux
	marshaler runtime.Marshaler
	guard     *auth.Guard
	log       *slog.Logger
}

// RequestIDFunc returns the request id the gateway assigned to a request.
type RequestIDFunc func(ctx context.Context) string

// New registers the generated handlers of the three services. requestID is
// forwarded to the services as x-request-id metadata.
func New(c Clients, guard *auth.Guard, requestID RequestIDFunc, log *slog.Logger) (*Handler, error) {
	marshaler := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithMetadata(func(ctx context.Context, _ *http.Request) metadata.MD {
			// The runtime replaces the outgoing metadata of the context with
			// what it builds, so the request id has to be added here.
			return metadata.Pairs(grpcserver.RequestIDKey, requestID(ctx))
		}),
		// One way to name a method is enough; the override header only widens
		// what a proxy in front of us has to understand.
		runtime.WithDisableHTTPMethodOverride(),
	)
	// The context only scopes the registration itself; each call uses its
	// request's context.
	ctx := context.Background()
	if err := customerv1.RegisterCustomerServiceHandlerClient(ctx, mux, c.Customer); err != nil {
		return nil, fmt.Errorf("register customer handlers: %w", err)
	}
	if err := ledgerv1.RegisterLedgerServiceHandlerClient(ctx, mux, c.Ledger); err != nil {
		return nil, fmt.Errorf("register ledger handlers: %w", err)
	}
	if err := historyv1.RegisterHistoryServiceHandlerClient(ctx, mux, c.History); err != nil {
		return nil, fmt.Errorf("register history handlers: %w", err)
	}
	return &Handler{mux: mux, marshaler: marshaler, guard: guard, log: log}, nil
}

// incomingHeader forwards only Idempotency-Key. Everything else a client
// sends stays at the gateway; above all a client-supplied tenant header must
// never reach a service.
func incomingHeader(key string) (string, bool) {
	if http.CanonicalHeaderKey(key) == "Idempotency-Key" {
		return "idempotency-key", true
	}
	return "", false
}

// ServeHTTP authenticates the request and hands it to the generated routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, err := h.guard.Authenticate(r, auth.Basic)
	if err != nil {
		h.authFailure(w, r, err)
		return
	}
	// The runtime copies a few headers into metadata regardless of the
	// matcher: Authorization (the client's password), X-Forwarded-For and
	// X-Forwarded-Host. None of them is for the services; the tenancy client
	// interceptor would overwrite authorization anyway, but the password
	// should not even reach it.
	// Protobuf strings must be UTF-8: the runtime would copy invalid bytes
	// from the URL into a request it then cannot marshal (an INTERNAL
	// error); this is the client's mistake, so say which parameter.
	if field, ok := invalidUTF8(r); ok {
		h.writeStatus(w, r, http.StatusBadRequest, status.New(codes.InvalidArgument, field+": must be valid UTF-8"))
		return
	}
	r = r.Clone(ctx)
	r.Header.Del("Authorization")
	r.Header.Del("X-Forwarded-For")
	r.Header.Del("X-Forwarded-Host")
	r.Host = ""
	h.mux.ServeHTTP(w, r)
}

// invalidUTF8 names the first part of the URL that is not valid UTF-8 once
// decoded: the path, or a query parameter.
func invalidUTF8(r *http.Request) (string, bool) {
	if !utf8.ValidString(r.URL.Path) {
		return "path", true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "query", true
	}
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return "query", true
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return k, true
			}
		}
	}
	return "", false
}

func (h *Handler) authFailure(w http.ResponseWriter, r *http.Request, err error) {
	var tooMany *auth.TooManyAttemptsError
	switch {
	case errors.As(err, &tooMany):
		tooMany.SetRetryAfter(w.Header())
		h.writeStatus(w, r, http.StatusTooManyRequests, status.New(codes.ResourceExhausted,
			"too many failed authentication attempts; try again later"))
	case errors.Is(err, auth.ErrInvalidCredentials):
		w.Header().Set("WWW-Authenticate", `Basic realm="abacus"`)
		msg := "invalid credentials"
		if errors.Is(err, auth.ErrMissing) {
			msg = "missing credentials: use HTTP Basic authentication"
		}
		h.writeStatus(w, r, http.StatusUnauthorized, status.New(codes.Unauthenticated, msg))
	default:
		h.writeStatus(w, r, http.StatusServiceUnavailable, status.New(codes.Unavailable,
			"authentication is temporarily unavailable"))
	}
}

// WriteError answers with a google.rpc.Status, the shape of every native
// error; the server uses it for failures outside the generated routes.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
	h.writeStatus(w, r, httpStatus, status.New(codeForHTTP(httpStatus), message))
}

func (h *Handler) writeStatus(w http.ResponseWriter, r *http.Request, httpStatus int, st *status.Status) {
	body, err := h.marshaler.Marshal(st.Proto())
	if err != nil {
		h.log.ErrorContext(r.Context(), "marshal status", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// codeForHTTP inverts the runtime's code-to-HTTP mapping for the statuses the
// gateway produces itself. 413 is RESOURCE_EXHAUSTED, as gRPC itself reports
// a message over its size limit.
func codeForHTTP(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	default:
		return codes.Internal
	}
}
