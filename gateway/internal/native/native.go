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
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/proto/openapi"
	"github.com/abacus-ledger/abacus/services/platform/idemkey"
	"github.com/abacus-ledger/abacus/services/platform/logging"
)

// Clients are the services the native API exposes.
type Clients struct {
	Customer customerv1.CustomerServiceClient
	Ledger   ledgerv1.LedgerServiceClient
	History  historyv1.HistoryServiceClient
}

const idempotencyKeyHeader = "Idempotency-Key"

// Handler is the native API.
type Handler struct {
	mux       *runtime.ServeMux
	marshaler runtime.Marshaler
	routes    routes
	guard     *auth.Guard
	log       *slog.Logger
}

// Plain answers for failures that are not the caller's doing; the detail
// goes to the log.
const (
	msgUnavailable = "The service is temporarily unavailable; retry later. " +
		"A posting can be retried safely with the same Idempotency-Key."
	msgInternal = "internal error"
)

// RequestIDFunc returns the request id the gateway assigned to a request.
type RequestIDFunc func(ctx context.Context) string

// New registers the generated handlers of the three services. requestID is
// forwarded to the services as x-request-id metadata.
func New(c Clients, guard *auth.Guard, requestID RequestIDFunc, log *slog.Logger) (*Handler, error) {
	rs, err := parseRoutes(openapi.Document)
	if err != nil {
		return nil, err
	}
	installQueryParser()
	h := &Handler{
		// Short enum names on the wire, both ways (enums.go).
		marshaler: wireMarshaler{&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}},
		routes: rs,
		guard:  guard,
		log:    log,
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, h.marshaler),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithMetadata(func(ctx context.Context, _ *http.Request) metadata.MD {
			// The runtime replaces the outgoing metadata of the context with
			// what it builds, so the request id has to be added here.
			return metadata.Pairs(logging.RequestIDMetadata, requestID(ctx))
		}),
		// One way to name a method is enough; the override header only widens
		// what a proxy in front of us has to understand.
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithErrorHandler(h.callError),
		runtime.WithRoutingErrorHandler(h.routingError),
		// The services' response metadata (content-type and the like) is
		// theirs, not part of the API: no Grpc-Metadata-* headers.
		runtime.WithOutgoingHeaderMatcher(noMetadata),
		runtime.WithOutgoingTrailerMatcher(noMetadata),
	)
	h.mux = mux
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
	return h, nil
}

func noMetadata(string) (string, bool) { return "", false }

// incomingHeader forwards only Idempotency-Key. Everything else a client
// sends stays at the gateway; above all a client-supplied tenant header must
// never reach a service.
func incomingHeader(key string) (string, bool) {
	if http.CanonicalHeaderKey(key) == idempotencyKeyHeader {
		return "idempotency-key", true
	}
	return "", false
}

// Paths are the API's: everything under /v1/, as written.
func (*Handler) Paths() pathset.Set { return pathset.Set{Prefixes: []string{"/v1/"}} }

// ServeHTTP authenticates the request and hands it to the generated routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, fail := h.guard.Authenticate(w, r, auth.Basic)
	if fail != nil {
		h.authFailure(w, r, *fail)
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
	// The runtime would drop a key that is not ASCII, with only a log line,
	// and a retry would then post twice; refuse it before anything is sent.
	if st := checkIdempotencyKey(r.Header); st != nil {
		h.writeStatus(w, r, http.StatusBadRequest, st)
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

// checkIdempotencyKey refuses an Idempotency-Key header that breaks
// idemkey's rule or is sent more than once; nil when it is fine or absent.
func checkIdempotencyKey(header http.Header) *status.Status {
	var keys []string
	for name, vs := range header {
		if http.CanonicalHeaderKey(name) == idempotencyKeyHeader {
			keys = append(keys, vs...)
		}
	}
	rule := idemkey.Rule
	switch {
	case len(keys) == 0:
		return nil
	case len(keys) > 1:
		rule = "must be sent at most once"
	case idemkey.Valid(keys[0]):
		return nil
	}
	st, err := status.New(codes.InvalidArgument, idempotencyKeyHeader+": "+rule).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: idempotencyKeyHeader, Description: rule}},
	})
	if err != nil { // only a detail that cannot be marshaled fails
		return status.New(codes.InvalidArgument, idempotencyKeyHeader+": "+rule)
	}
	return st
}

// callError answers the failure of a generated route. The caller's own
// mistakes keep the service's (or the runtime's) message and details;
// outages, timeouts, unknown outcomes and internal failures get a plain
// message, their detail logged once by upstream.
func (h *Handler) callError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var routing *runtime.HTTPStatusError
	if !errors.As(err, &routing) {
		switch e := upstream.Sort(ctx, h.log, err); e.Kind {
		case upstream.Unavailable:
			err = status.Error(codes.Unavailable, msgUnavailable)
		case upstream.Internal:
			err = status.Error(codes.Internal, msgInternal)
		default:
			err = e.Status.Err()
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// routingError answers a path no route matches (404) and a method a
// matching path does not have: 405, whose Allow lists the methods it has.
func (h *Handler) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	if allow := h.routes.allowed(r.URL.Path); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
	} else {
		// The document and the handlers come from the same annotations,
		// which a test checks; this would be a build that broke that.
		h.log.ErrorContext(ctx, "no OpenAPI route for a path the mux routes", "path", r.URL.Path)
	}
	h.writeStatus(w, r, http.StatusMethodNotAllowed, status.New(codes.Unimplemented, http.StatusText(http.StatusMethodNotAllowed)))
}

var authMessages = auth.Messages{
	Unavailable:        "authentication is temporarily unavailable",
	InvalidCredentials: "invalid credentials",
	TooManyAttempts:    "too many failed authentication attempts; try again later",
}

// authFailure renders a failed authentication; a refused credential is
// challenged, and a missing one is told how to authenticate.
func (h *Handler) authFailure(w http.ResponseWriter, r *http.Request, f auth.Failure) {
	msg := authMessages.For(f)
	if f.Kind == auth.InvalidCredentials {
		w.Header().Set("WWW-Authenticate", `Basic realm="abacus"`)
		if f.Missing {
			msg = "missing credentials: use HTTP Basic authentication"
		}
	}
	h.WriteError(w, r, f.HTTPStatus(), msg)
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
