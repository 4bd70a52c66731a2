// Package exigo serves the Exigo REST dialect under /3.0/: Basic
// authentication with login@company:password and answers that carry Exigo's
// ApiResult ({"status","errors","transactionKey"}).
package exigo

import (
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
}

// New returns the Exigo dialect.
func New(c Clients, guard *auth.Guard, log *slog.Logger) *Handler {
	return &Handler{clients: c, guard: guard, log: log}
}

const (
	balancesPath = "/3.0/customers/balances"
	extendedPath = "/3.0/customers/extended"
)

// Paths are the dialect's: everything under /3.0/, in any case, as
// Exigo's (IIS) servers match paths.
func (*Handler) Paths() pathset.Set { return pathset.Set{Prefixes: []string{"/3.0/"}, AnyCase: true} }

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
	rt, ok := routes[strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))]
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
		h.fail(w, r, fail.HTTPStatus(), authMessages.For(*fail))
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

// serviceError answers for a failed call of either method, in Exigo's
// words. A customer the tenant does not have is 404, whoever else may have
// it; Abacus-side failures never show their cause (upstream logs it).
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, ref customerRef, err error) {
	e := upstream.Sort(r.Context(), h.log, err)
	switch e.Kind {
	case upstream.NotFound:
		msg := fmt.Sprintf("No customer has %s %d.", propCustomerID, ref.id)
		if ref.key != "" {
			msg = fmt.Sprintf("No customer has %s %s.", propCustomerKey, strconv.Quote(ref.key))
		}
		h.fail(w, r, http.StatusNotFound, msg)
	case upstream.Invalid:
		h.fail(w, r, http.StatusBadRequest, invalidReason(e))
	case upstream.Conflict, upstream.FailedPrecondition, upstream.Aborted:
		h.fail(w, r, e.Kind.HTTPStatus(), e.Message())
	case upstream.Unimplemented:
		h.fail(w, r, http.StatusNotImplemented, msgNotImplemented)
	case upstream.Unavailable:
		h.fail(w, r, http.StatusServiceUnavailable, msgUnavailable)
	default:
		h.fail(w, r, http.StatusInternalServerError, msgInternal)
	}
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

// WriteError answers with a Failure result and the given HTTP status.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
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

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, httpStatus int, v any) {
	jsonbody.WriteValue(w, r, h.log, httpStatus, v)
}
