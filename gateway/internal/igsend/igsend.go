// Package igsend serves igsend's client balance method,
// GET /services/clientbalance/?ClientID=, behind Basic public:private
// authentication, with igsend's {"coreRes","tableRes"} envelope.
package igsend

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	"github.com/abacus-ledger/abacus/gateway/internal/query"
	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// Handler is the igsend dialect.
type Handler struct {
	ledger ledgerv1.LedgerServiceClient
	guard  *auth.Guard
	log    *slog.Logger
}

// New returns the igsend dialect.
func New(ledger ledgerv1.LedgerServiceClient, guard *auth.Guard, log *slog.Logger) *Handler {
	return &Handler{ledger: ledger, guard: guard, log: log}
}

// Paths are the two spellings of the method's URL, with and without the
// trailing slash, exactly as written.
func (*Handler) Paths() pathset.Set {
	return pathset.Set{Exact: []string{"/services/clientbalance/", "/services/clientbalance"}}
}

// Message ids. 10001, 10009 and 10010 are igsend's; 10000 is ours, for the
// failures igsend documents no id for (overload, outage, wrong method).
const (
	idGatewayFailure = 10000
	idAuthFailed     = 10001
	idNoAccount      = 10009
	idBalanceOK      = 10010
)

const (
	msgNoAccount = "Data Validation Failed. Account Number was not available for this client."
	msgBalanceOK = "Client Balance successfully retrieved."
	// msgUnavailable answers outages, timeouts and unknown outcomes.
	msgUnavailable = "Service temporarily unavailable. Try again later."
)

var authMessages = auth.Messages{
	Unavailable:        msgUnavailable,
	InvalidCredentials: "Authentication failed: invalid public or private key.",
	TooManyAttempts:    "Authentication failed: too many failed attempts. Try again later.",
}

type coreRes struct {
	Status    int    `json:"status"`
	Message   string `json:"Message"`
	MessageID int    `json:"MessageID"`
}

type balanceRow struct {
	ClientID       int32  `json:"ClientID"`
	AccountBalance string `json:"AccountBalance"`
	Status         string `json:"Status"`
	Currency       string `json:"Balance Currency"`
	State          string `json:"Balance State"`
}

type answer struct {
	CoreRes  coreRes      `json:"coreRes"`
	TableRes []balanceRow `json:"tableRes"`
}

// ServeHTTP authenticates, validates ClientID and reads the balances.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.WriteError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	ctx, fail := h.guard.Authenticate(w, r, credential)
	if fail != nil {
		h.authFailure(w, r, *fail)
		return
	}
	clientID, ok := parseClientID(r.URL.RawQuery)
	if !ok {
		h.write(w, r, http.StatusOK, failure(msgNoAccount, idNoAccount))
		return
	}
	resp, err := h.ledger.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: clientID})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	rows := make([]balanceRow, 0, len(resp.GetCurrencyBalances()))
	for _, cb := range resp.GetCurrencyBalances() {
		row, err := renderRow(clientID, cb)
		if err != nil {
			h.log.ErrorContext(ctx, "ledger returned a bad balance", "error", err)
			h.WriteError(w, r, http.StatusInternalServerError, "Internal error.")
			return
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		// A customer without any balance has no account in igsend's terms.
		h.write(w, r, http.StatusOK, failure(msgNoAccount, idNoAccount))
		return
	}
	h.write(w, r, http.StatusOK, answer{CoreRes: coreRes{Status: 1, Message: msgBalanceOK, MessageID: idBalanceOK}, TableRes: rows})
}

func credential(r *http.Request) (*customerv1.AuthenticateRequest, error) {
	public, private, err := auth.BasicFromRequest(r)
	if err != nil {
		return nil, err
	}
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Igsend{
		Igsend: &customerv1.IgsendCredential{PublicKey: public, PrivateKey: private},
	}}, nil
}

// parseClientID accepts only a positive decimal Int (digits only: no sign,
// no spaces). Anything else, including a malformed query or a repeated
// ClientID, is igsend's "no account" answer.
func parseClientID(rawQuery string) (int32, bool) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return 0, false
	}
	text, _, err := query.Get(q, "ClientID")
	if err != nil || text == "" {
		return 0, false
	}
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return int32(n), true
}

// renderRow writes a balance at its currency's scale, through decimal only.
func renderRow(clientID int32, cb *ledgerv1.CurrencyBalance) (balanceRow, error) {
	d, err := decimal.NewFromString(cb.GetBalance())
	if err != nil {
		return balanceRow{}, err
	}
	amount := d.String()
	if scale := cb.GetScale(); scale >= 0 && d.Exponent() >= -scale {
		amount = d.StringFixed(scale)
	}
	state := "IN_CREDIT"
	if d.IsNegative() {
		state = "OVERDRAWN"
	}
	return balanceRow{ClientID: clientID, AccountBalance: amount, Status: "success", Currency: cb.GetCurrency(), State: state}, nil
}

// serviceError renders a failed ledger call: a client the ledger does not
// know, or cannot be asked about, has no account in igsend's terms.
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	e := upstream.Sort(r.Context(), h.log, err)
	switch e.Kind {
	case upstream.NotFound, upstream.Invalid:
		h.write(w, r, http.StatusOK, failure(msgNoAccount, idNoAccount))
	case upstream.Conflict, upstream.FailedPrecondition, upstream.Aborted:
		h.WriteError(w, r, e.Kind.HTTPStatus(), e.Message())
	case upstream.Unimplemented:
		h.WriteError(w, r, http.StatusNotImplemented, "Not implemented yet.")
	case upstream.Unavailable:
		h.WriteError(w, r, http.StatusServiceUnavailable, msgUnavailable)
	default:
		h.WriteError(w, r, http.StatusInternalServerError, "Internal error.")
	}
}

// authFailure renders a failed authentication. A refused or throttled
// client gets igsend's authentication id; an outage is no failed
// authentication in igsend's terms, so it gets ours.
func (h *Handler) authFailure(w http.ResponseWriter, r *http.Request, f auth.Failure) {
	id := idAuthFailed
	if f.Kind == auth.Unavailable {
		id = idGatewayFailure
	}
	h.write(w, r, f.HTTPStatus(), failure(authMessages.For(f), id))
}

func failure(message string, id int) answer {
	return answer{CoreRes: coreRes{Status: 2, Message: message, MessageID: id}, TableRes: []balanceRow{}}
}

// WriteError answers with a status 2 envelope for failures igsend has no
// message id for.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
	h.write(w, r, httpStatus, failure(message, idGatewayFailure))
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, httpStatus int, a answer) {
	jsonbody.WriteValue(w, r, h.log, httpStatus, a)
}
