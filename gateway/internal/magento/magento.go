// Package magento serves the Magento 1 REST facade under /api/rest/: Basic
// apiUser:apiKey authentication and Magento's
// {"messages":{"error":[{"code","message"}]}} faults.
package magento

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	"github.com/abacus-ledger/abacus/gateway/internal/query"
	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
)

// prefix is the path prefix the dialect owns. Magento's routes are
// case-sensitive, so it is matched exactly.
const prefix = "/api/rest/"

// Paths are the dialect's: everything under /api/rest/ and the SOAP
// endpoints, exactly as written.
func (*Handler) Paths() pathset.Set {
	return pathset.Set{Exact: soapPaths, Prefixes: []string{prefix}}
}

// Handler is the Magento dialect.
type Handler struct {
	history historyv1.HistoryServiceClient
	guard   *auth.Guard
	log     *slog.Logger
	soap    SOAPConfig
}

// SOAPConfig tunes the SOAP endpoints.
type SOAPConfig struct {
	// PublicURL is the gateway's external URL, the base of the WSDLs'
	// addresses; empty means the request's host.
	PublicURL string
	// WSI makes /api/v2_soap/?wsdl serve the WS-I WSDL, as Magento's
	// "WS-I Compliance" setting does.
	WSI bool
}

// New returns the Magento dialect.
func New(history historyv1.HistoryServiceClient, guard *auth.Guard, log *slog.Logger, soap SOAPConfig) *Handler {
	return &Handler{history: history, guard: guard, log: log, soap: soap}
}

// Magento fault codes and messages.
const (
	faultInvalid   = 100
	faultNoHistory = 102
	msgInvalid     = "Provided data is invalid."
	msgNoHistory   = "No history found with requested parameters."
	// msgUnavailable answers outages, timeouts and unknown outcomes.
	msgUnavailable = "Service temporarily unavailable."
)

var authMessages = auth.Messages{
	Unavailable:        msgUnavailable,
	InvalidCredentials: "Authentication failed.",
	TooManyAttempts:    "Too many failed authentication attempts. Try again later.",
}

// maxPages bounds one answer; a customer's store-credit history is short,
// and a runaway one should not pin the gateway.
const maxPages = 50

type fault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type faults struct {
	Messages struct {
		Error []fault `json:"error"`
	} `json:"messages"`
}

// historyItem is Magento's enterpriseCustomerbalanceHistoryItemEntity, every
// value a string. The seed's example shows base_currency_code null (Magento
// leaves the column empty when a balance is in the website's base currency);
// the JSON form makes every value a string, and Abacus always knows the
// balance's currency, so it is the ISO code here, never null.
type historyItem struct {
	HistoryID          string `json:"history_id"`
	BalanceID          string `json:"balance_id"`
	UpdatedAt          string `json:"updated_at"`
	Action             string `json:"action"`
	BalanceAmount      string `json:"balance_amount"`
	BalanceDelta       string `json:"balance_delta"`
	AdditionalInfo     string `json:"additional_info"`
	IsCustomerNotified string `json:"is_customer_notified"`
	CustomerID         string `json:"customer_id"`
	WebsiteID          string `json:"website_id"`
	BaseCurrencyCode   string `json:"base_currency_code"`
}

// ServeHTTP routes, authenticates, then runs the method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ep, ok := soapEndpoints[r.URL.Path]; ok {
		h.serveSOAP(w, r, ep)
		return
	}
	customerID, ok := historyRoute(r.URL.Path)
	if !ok {
		h.WriteError(w, r, http.StatusNotFound, "Request does not match any route.")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		h.WriteError(w, r, http.StatusMethodNotAllowed, "Resource method not implemented yet.")
		return
	}
	ctx, fail := h.guard.Authenticate(w, r, credential)
	if fail != nil {
		h.WriteError(w, r, fail.HTTPStatus(), authMessages.For(*fail))
		return
	}
	req, ok := historyRequest(customerID, r)
	if !ok {
		h.writeFault(w, r, invalid.status, invalid.code, invalid.message)
		return
	}
	items, f := h.storeCreditHistory(ctx, req)
	if f != nil {
		h.writeFault(w, r, f.status, f.code, f.message)
		return
	}
	h.writeJSON(w, r, http.StatusOK, items)
}

// failure is a failed operation, sorted once; each form renders it: the
// JSON form as status and fault code, SOAP as the fault code (code 1 for
// Abacus-side failures, status 5xx).
type failure struct {
	status  int // the JSON form's HTTP status
	code    int // Magento's fault code
	message string
}

var (
	invalid   = &failure{http.StatusBadRequest, faultInvalid, msgInvalid}
	noHistory = &failure{http.StatusNotFound, faultNoHistory, msgNoHistory}
)

// storeCreditHistory is the history operation of every form: the validated
// request's pages read and rendered, newest first. No rows is fault 102.
func (h *Handler) storeCreditHistory(ctx context.Context, req *historyv1.ListHistoryRequest) ([]historyItem, *failure) {
	var items []historyItem
	for page := 1; ; page++ {
		resp, err := h.history.ListHistory(ctx, req)
		if err != nil {
			return nil, h.serviceFailure(ctx, err)
		}
		for _, e := range resp.GetEntries() {
			items = append(items, render(e))
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		if page == maxPages {
			h.log.WarnContext(ctx, "store-credit history cut at the page limit",
				"customer_id", req.GetCustomerId(), "rows", len(items))
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if len(items) == 0 {
		return nil, noHistory
	}
	return items, nil
}

// historyRoute matches customers/{customerId}/storecredit/history and returns
// the raw customer id.
func historyRoute(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return "", false
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) != 4 || parts[0] != "customers" || parts[1] == "" || parts[2] != "storecredit" || parts[3] != "history" {
		return "", false
	}
	return parts[1], true
}

func credential(r *http.Request) (*customerv1.AuthenticateRequest, error) {
	user, key, err := auth.BasicFromRequest(r)
	if err != nil {
		return nil, err
	}
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Magento{
		Magento: &customerv1.MagentoCredential{ApiUser: user, ApiKey: key},
	}}, nil
}

// historyRequest is the JSON form's request: the customer id of the path
// and the optional website id, named website_id (the REST form) or
// websiteId (the seed's own argument name); both may be sent only with the
// same value.
func historyRequest(customerID string, r *http.Request) (*historyv1.ListHistoryRequest, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, false
	}
	website, present, err := query.Get(q, "website_id")
	if err != nil {
		return nil, false
	}
	alias, aliasPresent, err := query.Get(q, "websiteId")
	if err != nil || present && aliasPresent && alias != website {
		return nil, false
	}
	if aliasPresent {
		website = alias
	}
	return newHistoryRequest(customerID, website)
}

// newHistoryRequest validates the history arguments of every form: a
// customer id of at least 1 and a website id of at least 0, or "" for any
// website.
func newHistoryRequest(customerID, website string) (*historyv1.ListHistoryRequest, bool) {
	id, ok := positiveInt(customerID, 1)
	if !ok {
		return nil, false
	}
	req := &historyv1.ListHistoryRequest{CustomerId: id, PageSize: 1000}
	if website != "" {
		wid, ok := positiveInt(website, 0)
		if !ok {
			return nil, false
		}
		req.WebsiteId = proto.Int32(wid)
	}
	return req, true
}

// positiveInt parses digits only, at least min, within int32.
func positiveInt(s string, min int64) (int32, bool) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < min {
		return 0, false
	}
	return int32(n), true
}

func render(e *historyv1.HistoryEntry) historyItem {
	notified := "0"
	if e.GetCustomerNotified() {
		notified = "1"
	}
	return historyItem{
		HistoryID:          strconv.FormatInt(e.GetHistoryId(), 10),
		BalanceID:          strconv.FormatInt(e.GetBalanceId(), 10),
		UpdatedAt:          e.GetUpdateTime().AsTime().UTC().Format(time.DateTime),
		Action:             strconv.Itoa(int(e.GetAction())),
		BalanceAmount:      fourDecimals(e.GetBalanceAmount()),
		BalanceDelta:       fourDecimals(e.GetBalanceDelta()),
		AdditionalInfo:     e.GetAdditionalInfo(),
		IsCustomerNotified: notified,
		CustomerID:         strconv.Itoa(int(e.GetCustomerId())),
		WebsiteID:          strconv.Itoa(int(e.GetWebsiteId())),
		BaseCurrencyCode:   e.GetCurrency(),
	}
}

// fourDecimals writes Magento's 4-decimal amounts. It never rounds money: a
// value with more decimals keeps them all, and a value it cannot parse is
// passed through rather than invented.
func fourDecimals(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	if d.Exponent() < -4 {
		return d.String()
	}
	return d.StringFixed(4)
}

// serviceFailure sorts a failed history call into Magento's faults.
func (h *Handler) serviceFailure(ctx context.Context, err error) *failure {
	e := upstream.Sort(ctx, h.log, err)
	switch e.Kind {
	case upstream.Invalid:
		return invalid
	case upstream.NotFound:
		return noHistory
	case upstream.Conflict, upstream.FailedPrecondition, upstream.Aborted:
		return statusFailure(e.Kind.HTTPStatus(), e.Message())
	case upstream.Unimplemented:
		return statusFailure(http.StatusNotImplemented, "Not implemented yet.")
	case upstream.Unavailable:
		return statusFailure(http.StatusServiceUnavailable, msgUnavailable)
	}
	return statusFailure(http.StatusInternalServerError, "Internal error.")
}

// statusFailure is a failure outside the resource's own fault list, whose
// code is the HTTP status, as Magento does.
func statusFailure(httpStatus int, message string) *failure {
	return &failure{httpStatus, httpStatus, message}
}

// WriteError answers with a fault whose code is the HTTP status, as Magento
// does for faults outside a resource's own list; on a SOAP endpoint, with a
// SOAP Fault.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
	if _, ok := soapEndpoints[r.URL.Path]; ok {
		writeEnvelopeError(w, httpStatus, message)
		return
	}
	h.writeFault(w, r, httpStatus, httpStatus, message)
}

func (h *Handler) writeFault(w http.ResponseWriter, r *http.Request, httpStatus, code int, message string) {
	var f faults
	f.Messages.Error = []fault{{Code: code, Message: message}}
	h.writeJSON(w, r, httpStatus, f)
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, httpStatus int, v any) {
	jsonbody.WriteValue(w, r, h.log, httpStatus, v)
}
