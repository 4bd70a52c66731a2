package magento

import (
	"net/http"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// The WS-I operations are document/literal: one element in, one out,
// children unqualified (the WSDL's schema leaves elementFormDefault
// unqualified, as Magento's does), no xsi:type.

// writeLiteral answers a WS-I operation: the element holding its
// children (XML text).
func writeLiteral(w http.ResponseWriter, element, children string) {
	soapxml.WriteEnvelope(w, http.StatusOK,
		`<ns1:`+element+` xmlns:ns1="`+soapNS+`">`+children+`</ns1:`+element+`>`)
}

// wsiLogin is loginParam{username, apiKey} → loginResponseParam{result}.
func (h *Handler) wsiLogin(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	id, ok := h.login(w, r, argument(childNamed(req, "username")), argument(childNamed(req, "apiKey")))
	if !ok {
		return
	}
	var b strings.Builder
	soapxml.WriteText(&b, "result", id)
	writeLiteral(w, "loginResponseParam", b.String())
}

// wsiEndSession is endSessionParam{sessionId} →
// endSessionResponseParam{result}, always true.
func (h *Handler) wsiEndSession(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	if !h.endSession(w, r, argument(childNamed(req, "sessionId"))) {
		return
	}
	writeLiteral(w, "endSessionResponseParam", "<result>true</result>")
}

// wsiHistory is enterpriseCustomerbalanceHistoryRequestParam{sessionId,
// customerId, websiteId?} →
// enterpriseCustomerbalanceHistoryResponseParam{result{complexObjectArray*}}.
func (h *Handler) wsiHistory(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	items, ok := h.sessionHistory(w, r, argument(childNamed(req, "sessionId")),
		argument(childNamed(req, "customerId")), argument(childNamed(req, "websiteId")))
	if !ok {
		return
	}
	var b strings.Builder
	b.WriteString("<result>")
	for _, it := range items {
		writeEntity(&b, "complexObjectArray", "", it, false)
	}
	b.WriteString("</result>")
	writeLiteral(w, "enterpriseCustomerbalanceHistoryResponseParam", b.String())
}
