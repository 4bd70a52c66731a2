// Package manex serves the MANEX Customer Main API under /API/ (matched
// case-insensitively): /API/Customer/{Add|Edit|Get}/{API key}, parameters in
// the query string (GET) or a JSON body (POST), answers in the ASP.NET Web API
// envelope whose every object carries a "$id".
package manex

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// Handler is the MANEX dialect.
type Handler struct {
	customers customerv1.CustomerServiceClient
	guard     *auth.Guard
	log       *slog.Logger
}

// New returns the MANEX dialect.
func New(customers customerv1.CustomerServiceClient, guard *auth.Guard, log *slog.Logger) *Handler {
	return &Handler{customers: customers, guard: guard, log: log}
}

// prefix is the path prefix the dialect owns, compared case-insensitively.
const prefix = "/api/"

// Paths are the dialect's: any path under /API/, in any case. Magento's
// /api/rest/ is asked first, so MANEX gets every other /api/ path and
// answers it with its own "no resource".
func (*Handler) Paths() pathset.Set { return pathset.Set{Prefixes: []string{prefix}, AnyCase: true} }

// LogPath is path as the request log shows it: without the API key.
func (*Handler) LogPath(path string) string { return RedactPath(path) }

// action is one method of the Customer controller.
type action struct {
	name string // as MANEX spells it in messages: "add", "edit"
	run  func(h *Handler, w http.ResponseWriter, r *http.Request, p params)
}

var actions = map[string]action{
	"add":  {"add", (*Handler).add},
	"edit": {"edit", (*Handler).edit},
	"get":  {"get", (*Handler).get},
}

// ServeHTTP routes the way ASP.NET Web API does (controller, then action,
// then the parameters the action needs), then checks the API key, then runs
// the action.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := r.URL.Path
	if len(rest) >= len(prefix) && strings.EqualFold(rest[:len(prefix)], prefix) {
		rest = rest[len(prefix):]
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if !strings.EqualFold(segs[0], "Customer") {
		h.notFound(w, r, "No type was found that matches the controller named '"+segs[0]+"'.")
		return
	}
	act, ok := actions[strings.ToLower(segAt(segs, 1))]
	if !ok || len(segs) != 3 || segs[2] == "" {
		h.noAction(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		h.WriteError(w, r, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	p, perr := readParams(r)
	if _, ok := p["custnumorname"]; act.name == "get" && perr == nil && !ok {
		// Web API selects the Get action by its parameter: without it no
		// action matches, which the seed documents as this 404.
		h.noAction(w, r)
		return
	}
	ctx, fail := h.guard.Authenticate(w, r, keyCredential(segs[2]))
	if fail != nil {
		h.authFailure(w, r, *fail)
		return
	}
	r = r.WithContext(ctx)
	var pe *paramError
	switch {
	case errors.As(perr, &pe):
		h.refuse(w, r, act.name, pe.Error())
		return
	case perr != nil:
		// The seed's answer when a body does not bind: the action sees null.
		h.refuse(w, r, act.name, msgNullModel)
		return
	}
	act.run(h, w, r, p)
}

var authMessages = auth.Messages{
	Unavailable:        msgUnavailable,
	InvalidCredentials: "Invalid API Key.",
	TooManyAttempts:    "Too many failed attempts. Try again later.",
}

// authFailure renders a failed authentication in the envelope, its Code
// the HTTP status. A bad key is the seed's enveloped 403 (HTTP 200); an
// outage is no judgement of the key, so IsValidUser stays true.
func (h *Handler) authFailure(w http.ResponseWriter, r *http.Request, f auth.Failure) {
	code := f.HTTPStatus()
	httpStatus := code
	if f.Kind == auth.InvalidCredentials {
		code, httpStatus = http.StatusForbidden, http.StatusOK
	}
	h.envelope(w, r, httpStatus, code, authMessages.For(f), f.Kind == auth.Unavailable, nil)
}

func segAt(segs []string, i int) string {
	if i < len(segs) {
		return segs[i]
	}
	return ""
}

func keyCredential(key string) auth.CredentialFunc {
	return func(*http.Request) (*customerv1.AuthenticateRequest, error) {
		// A key that is not UTF-8 is no key, and gRPC could not even send it.
		if !utf8.ValidString(key) {
			return nil, errors.New("API key is not UTF-8")
		}
		return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Manex{
			Manex: &customerv1.ManexCredential{ApiKey: key},
		}}, nil
	}
}

// RedactPath hides whatever may be an API key so request logs never hold
// one: everything after /API/{controller}/{action}/, and the second segment
// of a two-segment path such as /API/CustomerAdd/{key}.
func RedactPath(path string) string {
	segs := strings.SplitN(strings.TrimSuffix(path, "/"), "/", 5) // "", "API", controller, action, rest
	switch len(segs) {
	case 4:
		return strings.Join(segs[:3], "/") + "/*****"
	case 5:
		return strings.Join(segs[:4], "/") + "/*****"
	}
	return path
}

func (h *Handler) noAction(w http.ResponseWriter, r *http.Request) {
	h.notFound(w, r, "No action was found on the controller 'Customer' that matches the request.")
}

// notFound is Web API's routing failure: HTTP 404 naming the URI exactly as
// it was requested.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, detail string) {
	h.write(w, r, http.StatusNotFound, Object{
		{"Message", "No HTTP resource was found that matches the request URI '" + requestURL(r) + "'."},
		{"MessageDetail", detail},
	})
}

// requestURL rebuilds the URL as received: the scheme of this connection (a
// proxy's X-Forwarded-Proto is not trusted), the Host header, and the raw
// request target.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
	}
	return scheme + "://" + r.Host + target
}

// WriteError answers with Web API's error object, {"$id","Message"}.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, message string) {
	h.write(w, r, httpStatus, Object{{"Message", message}})
}

// envelope writes MANEX's answer envelope. response is nil or an Object.
func (h *Handler) envelope(w http.ResponseWriter, r *http.Request, httpStatus, code int, message string, validUser bool, response any) {
	h.write(w, r, httpStatus, Object{
		{"Code", code},
		{"Message", message},
		{"SessionId", nil},
		{"IsValidUser", validUser},
		{"ResponseObject", response},
	})
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, httpStatus int, doc Object) {
	body, err := Encode(doc)
	jsonbody.Write(w, r, h.log, httpStatus, body, err)
}
