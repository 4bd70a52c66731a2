package exigo

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// soapPath is Exigo's SOAP 1.1 endpoint (ExigoApi.asmx), matched in any
// case like the dialect's other paths.
const soapPath = "/3.0/exigoapi.asmx"

// soapNS is the namespace of Exigo's SOAP types and operations.
const soapNS = "http://api.exigo.com/"

// soapOp is one SOAP operation: the body element it answers and what it
// does. Each parses the request element into the REST form's input, calls
// the same operation function, and renders the result element.
type soapOp struct {
	name  string
	serve func(h *Handler, w http.ResponseWriter, r *http.Request, req *soapxml.Element)
}

// soapOps are keyed by the local name of the body's element, which is what
// dispatch follows (SOAPAction is accepted in either form but not needed).
var soapOps = map[string]soapOp{
	"GetCustomerBalancesRequest":    {"GetCustomerBalances", (*Handler).soapBalances},
	"UpdateCustomerExtendedRequest": {"UpdateCustomerExtended", (*Handler).soapUpdateExtended},
}

// serveSOAP is ExigoApi.asmx: GET ?WSDL serves the WSDL, POST an envelope.
func (h *Handler) serveSOAP(w http.ResponseWriter, r *http.Request) {
	env, wsdl := soapxml.ReadRequest(w, r)
	if wsdl {
		h.serveWSDL(w, r)
	}
	if env == nil {
		return
	}
	op, ok := soapOps[env.Body.Local]
	if !ok || env.Body.Space != soapNS {
		soapxml.WriteFault(w, soapxml.Client, "Unknown operation {"+env.Body.Space+"}"+env.Body.Local+".")
		return
	}
	ctx, fail := h.guard.Authenticate(w, r, func(*http.Request) (*customerv1.AuthenticateRequest, error) {
		return soapCredential(env)
	})
	if fail != nil {
		soapFault(w, authFailure(*fail))
		return
	}
	op.serve(h, w, r.WithContext(ctx), env.Body)
}

// soapCredential reads the ApiAuthentication header: LoginName, Company and
// Password are the REST form's login@company:password. Identity,
// RequestTimeUtc and Signature are accepted and ignored.
func soapCredential(env *soapxml.Envelope) (*customerv1.AuthenticateRequest, error) {
	a := env.HeaderEntry(soapNS, "ApiAuthentication")
	if a == nil {
		return nil, auth.ErrMissing
	}
	get := func(name string) string {
		for _, c := range a.Children {
			if c.Local == name {
				return c.Text
			}
		}
		return ""
	}
	login, company, password := get("LoginName"), get("Company"), get("Password")
	if login == "" || company == "" || password == "" {
		return nil, errors.New("ApiAuthentication lacks LoginName, Company or Password")
	}
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Exigo{
		Exigo: &customerv1.ExigoCredential{Login: login, Company: company, Password: password},
	}}, nil
}

// soapFault renders a failure: the caller's mistakes (below 500) are
// soap:Client, Abacus-side failures soap:Server; the faultstring is the
// REST form's errors.
func soapFault(w http.ResponseWriter, f *failure) {
	code := soapxml.Client
	if f.status >= 500 {
		code = soapxml.Server
	}
	soapxml.WriteFault(w, code, strings.Join(f.messages, " "))
}

// children are the request element's children by local name. Generated
// clients qualify them with the operation's namespace; unqualified ones are
// accepted too. The second of a repeated element is reported.
func children(req *soapxml.Element) (map[string]*soapxml.Element, *failure) {
	out := make(map[string]*soapxml.Element, len(req.Children))
	for _, c := range req.Children {
		if _, dup := out[c.Local]; dup {
			return nil, fail(http.StatusBadRequest, c.Local+" is given more than once.")
		}
		out[c.Local] = c
	}
	return out, nil
}

// soapCustomerID is CustomerID as the REST form reads it: generated
// clients always send the value-typed element, so 0 means "not sent".
func soapCustomerID(e *soapxml.Element) (string, bool) {
	if e == nil || e.Nil {
		return "", false
	}
	v := strings.TrimSpace(e.Text)
	return v, v != "" && v != "0"
}

func (h *Handler) soapBalances(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	els, f := children(req)
	if f != nil {
		soapFault(w, f)
		return
	}
	q := url.Values{}
	if id, ok := soapCustomerID(els["CustomerID"]); ok {
		q.Set("customerID", id)
	}
	if k := els["CustomerKey"]; k != nil && !k.Nil && k.Text != "" {
		q.Set("customerKey", k.Text)
	}
	rows, f := h.customerBalances(r.Context(), q)
	if f != nil {
		soapFault(w, f)
		return
	}
	var b strings.Builder
	b.WriteString("<CustomerBalances>")
	for _, row := range rows {
		b.WriteString("<CustomerBalanceResponse><CurrencyCode>")
		soapxml.Escape(&b, row.CurrencyCode)
		b.WriteString("</CurrencyCode><CurrencyDescription>")
		soapxml.Escape(&b, row.CurrencyDescription)
		b.WriteString("</CurrencyDescription><Balance>")
		b.WriteString(row.Balance.String())
		b.WriteString("</Balance></CustomerBalanceResponse>")
	}
	b.WriteString("</CustomerBalances>")
	writeSuccess(w, "GetCustomerBalancesResult", b.String())
}

// soapUpdateExtended hands the request's elements to the REST form's
// operation as members: an xsi:nil or absent FieldN is left unchanged, an
// empty one sets "".
func (h *Handler) soapUpdateExtended(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	if _, f := children(req); f != nil {
		soapFault(w, f)
		return
	}
	members := make([]jsonbody.Member, 0, len(req.Children))
	for _, c := range req.Children {
		if c.Nil {
			continue
		}
		v := c.Text
		switch strings.ToLower(c.Local) {
		case strings.ToLower(propCustomerID):
			id, ok := soapCustomerID(c)
			if !ok {
				continue
			}
			v = id
		case strings.ToLower(propCustomerKey):
			if v == "" {
				continue
			}
		case strings.ToLower(propExtendedGroupID), strings.ToLower(propCustomerExtendedID):
			v = strings.TrimSpace(v)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			soapFault(w, fail(http.StatusBadRequest, c.Local+" is not valid text."))
			return
		}
		members = append(members, jsonbody.Member{Name: c.Local, Value: raw})
	}
	if f := h.applyExtended(r.Context(), members); f != nil {
		soapFault(w, f)
		return
	}
	writeSuccess(w, "UpdateCustomerExtendedResult", "")
}

// writeSuccess answers the operation's result element: a successful
// ApiResult (failures are Faults), then the rest of the answer (XML text).
func writeSuccess(w http.ResponseWriter, element, rest string) {
	res := newResult()
	var b strings.Builder
	b.WriteString("<" + element + ` xmlns="` + soapNS + `"><Result><Status>`)
	b.WriteString(res.Status)
	b.WriteString("</Status><Errors /><TransactionKey>")
	soapxml.Escape(&b, res.TransactionKey)
	b.WriteString("</TransactionKey></Result>" + rest + "</" + element + ">")
	soapxml.WriteEnvelope(w, http.StatusOK, b.String())
}
