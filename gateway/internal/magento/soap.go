package magento

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// soapNS is the namespace of Magento's SOAP operations and types.
const soapNS = "urn:Magento"

// endpoint is one of Magento's three SOAP APIs.
type endpoint int

const (
	v1 endpoint = iota
	v2
	wsi
)

// soapEndpoints are the SOAP paths, as the seed writes them and under
// /index.php (Magento's URLs without rewrites), each with and without the
// trailing slash.
var soapEndpoints = func() map[string]endpoint {
	m := map[string]endpoint{}
	for path, ep := range map[string]endpoint{"/api/soap/": v1, "/api/v2_soap/": v2, "/api/v2_soap/wsi/": wsi} {
		for _, base := range []string{"", "/index.php"} {
			m[base+path] = ep
			m[base+strings.TrimSuffix(path, "/")] = ep
		}
	}
	return m
}()

// soapPaths are soapEndpoints' keys, for Paths.
var soapPaths = func() []string {
	out := make([]string, 0, len(soapEndpoints))
	for p := range soapEndpoints {
		out = append(out, p)
	}
	return out
}()

// soapOp is one operation: it reads the body's element and answers.
type soapOp func(h *Handler, w http.ResponseWriter, r *http.Request, req *soapxml.Element)

// soapOps are each endpoint's operations, keyed by the body element's local
// name. The v2 endpoints take both the rpc/encoded operations and the WS-I
// document/literal ones: which WSDL a client loaded (ABACUS_MAGENTO_WSI
// decides it at /api/v2_soap/) shows only in the element it sends, so both
// work at both addresses.
var soapOps = func() map[endpoint]map[string]soapOp {
	rpc := map[string]soapOp{
		"login":      (*Handler).rpcLogin,
		"endSession": (*Handler).rpcEndSession,
	}
	v2ops := map[string]soapOp{
		"enterpriseCustomerbalanceHistory":             (*Handler).v2History,
		"loginParam":                                   (*Handler).wsiLogin,
		"endSessionParam":                              (*Handler).wsiEndSession,
		"enterpriseCustomerbalanceHistoryRequestParam": (*Handler).wsiHistory,
	}
	v1ops := map[string]soapOp{"call": (*Handler).v1Call}
	for name, op := range rpc {
		v1ops[name], v2ops[name] = op, op
	}
	return map[endpoint]map[string]soapOp{v1: v1ops, v2: v2ops, wsi: v2ops}
}()

// Magento's fault codes beyond the history resource's own.
const (
	faultInternal      = 1 // "Internal Error": here, Abacus-side failures
	faultAccessDenied  = 2
	faultInvalidPath   = 3
	faultSessionExpire = 5
)

// serveSOAP answers one SOAP endpoint: GET ?wsdl its WSDL, POST an
// envelope. What is wrong with the envelope itself (not XML, not SOAP 1.1,
// an operation the endpoint lacks) is a soap:Client fault with a readable
// faultstring, as PHP's SoapServer answers such requests; what an operation
// refuses gets Magento's numeric codes.
func (h *Handler) serveSOAP(w http.ResponseWriter, r *http.Request, ep endpoint) {
	if wantsEncodingSchema(r) {
		serveEncodingSchema(w)
		return
	}
	env, wsdl := soapxml.ReadRequest(w, r)
	if wsdl {
		h.serveWSDL(w, r, ep)
	}
	if env == nil {
		return
	}
	op, ok := soapOps[ep][env.Body.Local]
	if !ok || env.Body.Space != soapNS {
		soapxml.WriteFault(w, soapxml.Client, "Unknown operation {"+env.Body.Space+"}"+env.Body.Local+".")
		return
	}
	op(h, w, r, env.Body)
}

// writeEnvelopeError answers what the gateway refuses before the dialect
// reads the request (an oversized body) or a recovered panic.
func writeEnvelopeError(w http.ResponseWriter, httpStatus int, message string) {
	if httpStatus >= http.StatusInternalServerError {
		writeCodeFault(w, faultInternal, message)
		return
	}
	soapxml.WriteFault(w, soapxml.Client, message)
}

func writeCodeFault(w http.ResponseWriter, code int, message string) {
	soapxml.WriteFault(w, strconv.Itoa(code), message)
}

// soapFault renders an operation's failure: Abacus-side failures are code 1,
// the others keep the code the JSON form gives them.
func soapFault(w http.ResponseWriter, f *failure) {
	code := f.code
	if f.status >= http.StatusInternalServerError {
		code = faultInternal
	}
	writeCodeFault(w, code, f.message)
}

// authFault renders a failed login or session check: a refused credential
// is refusedCode (2 for a login, 5 for a session); a throttled client gets
// the JSON form's code 429 (Retry-After is set); an outage is code 1.
func authFault(w http.ResponseWriter, f auth.Failure, refusedCode int, refusedMessage string) {
	switch f.Kind {
	case auth.InvalidCredentials:
		writeCodeFault(w, refusedCode, refusedMessage)
	case auth.TooManyAttempts:
		writeCodeFault(w, http.StatusTooManyRequests, authMessages.TooManyAttempts)
	default:
		writeCodeFault(w, faultInternal, msgUnavailable)
	}
}

// login is Magento's login of every form: the session id, or false once
// the fault is written.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, apiUser, apiKey string) (string, bool) {
	id, f := h.guard.StartMagentoSession(w, r, apiUser, apiKey)
	if f != nil {
		authFault(w, *f, faultAccessDenied, "Access denied.")
		return "", false
	}
	return id, true
}

// endSession is Magento's endSession of every form. Ending an unknown,
// ended or expired session succeeds, as Magento's does; only an outage
// fails.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, sessionID string) bool {
	if err := h.guard.EndMagentoSession(r.Context(), sessionID); err != nil {
		if f := h.serviceFailure(r.Context(), err); f.status >= http.StatusInternalServerError {
			soapFault(w, f)
			return false
		}
	}
	return true
}

// session authenticates a request by its session id: the tenant's context,
// or false once the fault is written.
func (h *Handler) session(w http.ResponseWriter, r *http.Request, sessionID string) (context.Context, bool) {
	ctx, f := h.guard.Authenticate(w, r, auth.MagentoSession(sessionID))
	if f != nil {
		authFault(w, *f, faultSessionExpire, "Session expired. Try to relogin.")
		return nil, false
	}
	return ctx, true
}

// sessionHistory is the history operation of the SOAP forms: the session,
// then the same validation and call as the JSON form.
func (h *Handler) sessionHistory(w http.ResponseWriter, r *http.Request, sessionID, customerID, website string) ([]historyItem, bool) {
	ctx, ok := h.session(w, r, sessionID)
	if !ok {
		return nil, false
	}
	return h.historyOf(ctx, w, customerID, website)
}

// historyOf validates and reads a history for an authenticated request,
// writing the fault when it fails.
func (h *Handler) historyOf(ctx context.Context, w http.ResponseWriter, customerID, website string) ([]historyItem, bool) {
	req, ok := newHistoryRequest(strings.TrimSpace(customerID), strings.TrimSpace(website))
	if !ok {
		soapFault(w, invalid)
		return nil, false
	}
	items, f := h.storeCreditHistory(ctx, req)
	if f != nil {
		soapFault(w, f)
		return nil, false
	}
	return items, true
}

// argument is a request's value: its text, or "" when absent or xsi:nil.
func argument(e *soapxml.Element) string {
	if e == nil || e.Nil {
		return ""
	}
	return e.Text
}

// rpcArgs are an rpc operation's arguments by their part names. PHP's
// SoapServer also takes them by position when the names differ (a client
// without the WSDL sends param0, param1, …), and so does this.
func rpcArgs(req *soapxml.Element, names ...string) []*soapxml.Element {
	out := make([]*soapxml.Element, len(names))
	named := false
	for i, name := range names {
		out[i] = childNamed(req, name)
		named = named || out[i] != nil
	}
	if named {
		return out
	}
	for i := range out {
		if i < len(req.Children) {
			out[i] = req.Children[i]
		}
	}
	return out
}

// childNamed is the first child with this local name, in any namespace
// (clients qualify arguments or not).
func childNamed(e *soapxml.Element, local string) *soapxml.Element {
	for _, c := range e.Children {
		if c.Local == local {
			return c
		}
	}
	return nil
}
