// Package exigo serves the Exigo REST dialect under /3.0/: Basic
// authentication with login@company:password and answers that carry Exigo's
// ApiResult ({"status","errors","transactionKey"}).
package exigo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// Clients are the services the Exigo dialect calls.
type Clients struct {
	Customer customerv1.CustomerServiceClient
	Ledger   ledgerv1.LedgerServiceClient
}

// Handler is the Exigo dialect.
type Handler struct {
	clients Clients
	guard   *auth.Guard
	log     *slog.Logger
	// publicURL is the gateway's external URL, the WSDL's address; empty
	// means the request's host.
	publicURL string
}

// New returns the Exigo dialect; publicURL is the gateway's external URL
// (see Handler.publicURL).
func New(c Clients, guard *auth.Guard, log *slog.Logger, publicURL string) *Handler {
	return &Handler{clients: c, guard: guard, log: log, publicURL: publicURL}
}

const (
	balancesPath = "/3.0/customers/balances"
	extendedPath = "/3.0/customers/extended"
)

// Paths are the dialect's: everything under /3.0/, the SOAP endpoint
// ExigoApi.asmx among them, in any case, as Exigo's (IIS) servers match
// paths.
func (*Handler) Paths() pathset.Set {
	return pathset.Set{Exact: []string{soapPath}, Prefixes: []string{"/3.0/"}, AnyCase: true}
}

// route is one Exigo method; the paths are matched case-insensitively, as
// Exigo's (IIS) servers do.
type route struct {
	method string
	serve  func(h *Handler, w http.ResponseWriter, r *http.Request)
}

var routes = map[string]route{
	balancesPath: {http.MethodGet, (*Handler).balances},
	extendedPath: {http.MethodPatch, (*Handler).updateExtended},
}

// ServeHTTP routes, authenticates, then runs the method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	if path == soapPath {
		h.serveSOAP(w, r)
		return
	}
	rt, ok := routes[path]
	if !ok {
		h.WriteError(w, r, http.StatusNotFound, "No resource matches the request URI.")
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		h.WriteError(w, r, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	ctx, fail := h.guard.Authenticate(w, r, credential)
	if fail != nil {
		h.failWith(w, r, authFailure(*fail))
		return
	}
	rt.serve(h, w, r.WithContext(ctx))
}

func credential(r *http.Request) (*customerv1.AuthenticateRequest, error) {
	user, password, err := auth.BasicFromRequest(r)
	if err != nil {
		return nil, err
	}
	login, company, ok := auth.SplitExigoLogin(user)
	if !ok {
		return nil, errors.New("user is not login@company")
	}
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Exigo{
		Exigo: &customerv1.ExigoCredential{Login: login, Company: company, Password: password},
	}}, nil
}

const (
	msgUnavailable    = "Service temporarily unavailable. Try again later."
	msgNotImplemented = "Not implemented yet."
	msgInternal       = "An internal error occurred."
)

var authMessages = auth.Messages{
	Unavailable:        msgUnavailable,
	InvalidCredentials: "Invalid login, company or password.",
	TooManyAttempts:    "Too many failed login attempts. Try again later.",
}

// failure is a failed call in Exigo's words: the HTTP status the REST form
// answers with and the messages of the result's errors. The SOAP form turns
// the same failure into a Fault (soap:Client below 500, else soap:Server).
type failure struct {
	status   int
	messages []string
}

func fail(status int, messages ...string) *failure {
	return &failure{status: status, messages: messages}
}

// serviceFailure sorts a failed service call of either method. A customer
// the tenant does not have is 404, whoever else may have it; Abacus-side
// failures never show their cause (upstream logs it).
func (h *Handler) serviceFailure(ctx context.Context, ref customerRef, err error) *failure {
	e := upstream.Sort(ctx, h.log, err)
	switch e.Kind {
	case upstream.NotFound:
		msg := fmt.Sprintf("No customer has %s %d.", propCustomerID, ref.id)
		if ref.key != "" {
			msg = fmt.Sprintf("No customer has %s %s.", propCustomerKey, strconv.Quote(ref.key))
		}
		return fail(http.StatusNotFound, msg)
	case upstream.Invalid:
		return fail(http.StatusBadRequest, invalidReason(e))
	case upstream.Conflict, upstream.FailedPrecondition, upstream.Aborted:
		return fail(e.Kind.HTTPStatus(), e.Message())
	case upstream.Unimplemented:
		return fail(http.StatusNotImplemented, msgNotImplemented)
	case upstream.Unavailable:
		return fail(http.StatusServiceUnavailable, msgUnavailable)
	default:
		return fail(http.StatusInternalServerError, msgInternal)
	}
}

// authFailure is a refused authentication in Exigo's words.
func authFailure(f auth.Failure) *failure {
	return fail(f.HTTPStatus(), authMessages.For(f))
}

// clientError is a message meant for the client, shown as is in the
// result's errors; hence it reads as a sentence.
type clientError string

func (e clientError) Error() string { return string(e) }

func clientErrorf(format string, args ...any) clientError {
	return clientError(fmt.Sprintf(format, args...))
}

// apiResult is Exigo's ApiResult.
type apiResult struct {
	Status         string   `json:"status"`
	Errors         []string `json:"errors"`
	TransactionKey string   `json:"transactionKey"`
}

func newResult(errs ...string) apiResult {
	st := "Success"
	if len(errs) > 0 {
		st = "Failure"
	}
	if errs == nil {
		errs = []string{}
	}
	return apiResult{Status: st, Errors: errs, TransactionKey: uuid.NewString()}
}

// resultOnly is the answer of methods that return nothing but the result.
type resultOnly struct {
	Result apiResult `json:"result"`
}

// balancesAnswer keeps customerBalances ahead of result, as Exigo writes it;
// a nil slice renders as null, which is what Exigo sends on failure.
type balancesAnswer struct {
	CustomerBalances []customerBalance `json:"customerBalances"`
	Result           apiResult         `json:"result"`
}

type customerBalance struct {
	CurrencyCode        string      `json:"currencyCode"`
	CurrencyDescription string      `json:"currencyDescription"`
	Balance             json.Number `json:"balance"`
}

// WriteError answers with a Failure result and the given HTTP status; on
// the SOAP endpoint (an oversized body, a recovered panic) with a Fault.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
	if strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), soapPath) {
		soapFault(w, fail(httpStatus, message))
		return
	}
	h.fail(w, r, httpStatus, message)
}

// fail answers with a Failure result. The balances method's answers always
// carry customerBalances, so its failures do too (as null).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, httpStatus int, messages ...string) {
	result := newResult(messages...)
	if strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), balancesPath) {
		h.writeJSON(w, r, httpStatus, balancesAnswer{Result: result})
		return
	}
	h.writeJSON(w, r, httpStatus, resultOnly{Result: result})
}

// failWith answers the REST form of a failure.
func (h *Handler) failWith(w http.ResponseWriter, r *http.Request, f *failure) {
	h.fail(w, r, f.status, f.messages...)
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, httpStatus int, v any) {
	jsonbody.WriteValue(w, r, h.log, httpStatus, v)
}
