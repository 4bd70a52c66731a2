package magento

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// apacheSoapNS is the namespace of PHP's Map type, an associative array in
// SOAP encoding.
const apacheSoapNS = "http://xml.apache.org/xml-soap"

// The prefixes rpc answers bind, those PHP's SoapServer writes.
var (
	magentoPrefix = soapxml.Namespace{Prefix: "ns1", URI: soapNS}
	mapPrefix     = soapxml.Namespace{Prefix: "ns2", URI: apacheSoapNS}
)

// historyFields are enterpriseCustomerbalanceHistoryItemEntity's fields in
// the seed's order.
var historyFields = [...]string{
	"history_id", "balance_id", "updated_at", "action", "balance_amount", "balance_delta",
	"additional_info", "is_customer_notified", "customer_id", "website_id", "base_currency_code",
}

// soapValues are the item's values in historyFields' order, but the last:
// base_currency_code is always null in SOAP. The seed's SOAP example has it
// null (Magento leaves the column empty while a balance is in its
// website's base currency) and a null is written as xsi:nil, so the three
// SOAP forms give exactly the seed's rows; the JSON form keeps the ISO
// code, its values being all strings (README.md).
func (it historyItem) soapValues() [len(historyFields) - 1]string {
	return [...]string{it.HistoryID, it.BalanceID, it.UpdatedAt, it.Action, it.BalanceAmount, it.BalanceDelta,
		it.AdditionalInfo, it.IsCustomerNotified, it.CustomerID, it.WebsiteID}
}

// writeEntity writes one history item's fields inside element, typed
// (rpc/encoded) or not (literal).
func writeEntity(b *strings.Builder, element, typ string, it historyItem, typed bool) {
	b.WriteString("<" + element + typ + ">")
	for i, v := range it.soapValues() {
		if typed {
			soapxml.WriteTyped(b, historyFields[i], "xsd:string", v)
		} else {
			soapxml.WriteText(b, historyFields[i], v)
		}
	}
	soapxml.WriteNil(b, historyFields[len(historyFields)-1])
	b.WriteString("</" + element + ">")
}

// writeRPC answers an rpc/encoded operation: <ns1:opResponse> holding
// the return parts (XML text).
func writeRPC(w http.ResponseWriter, op, parts string, ns ...soapxml.Namespace) {
	soapxml.WriteEncodedEnvelope(w, http.StatusOK,
		"<ns1:"+op+"Response>"+parts+"</ns1:"+op+"Response>", append([]soapxml.Namespace{magentoPrefix}, ns...)...)
}

// rpcLogin is login(username, apiKey) → loginReturn of v1 and v2.
func (h *Handler) rpcLogin(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	args := rpcArgs(req, "username", "apiKey")
	id, ok := h.login(w, r, argument(args[0]), argument(args[1]))
	if !ok {
		return
	}
	var b strings.Builder
	soapxml.WriteTyped(&b, "loginReturn", "xsd:string", id)
	writeRPC(w, "login", b.String())
}

// rpcEndSession is endSession(sessionId) → endSessionReturn of v1 and v2.
func (h *Handler) rpcEndSession(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	if !h.endSession(w, r, argument(rpcArgs(req, "sessionId")[0])) {
		return
	}
	var b strings.Builder
	soapxml.WriteTyped(&b, "endSessionReturn", "xsd:boolean", "true")
	writeRPC(w, "endSession", b.String())
}

// historyResources are the resource paths v1's call serves: the resource
// and its alias.
var historyResources = map[string]bool{"storecredit.history": true, "enterprise_customerbalance.history": true}

// v1Call is call(sessionId, resourcePath, args) → callReturn: the history
// as a SOAP array of ns2:Map items, what PHP's SoapServer writes for an
// array of associative arrays, so that PHP's SoapClient hands the caller
// the seed's "Response Example SOAP V1". The session is checked before the
// resource path, as Magento does.
func (h *Handler) v1Call(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	args := rpcArgs(req, "sessionId", "resourcePath", "args")
	ctx, ok := h.session(w, r, argument(args[0]))
	if !ok {
		return
	}
	if !historyResources[strings.TrimSpace(argument(args[1]))] {
		writeCodeFault(w, faultInvalidPath, "Invalid api path.")
		return
	}
	customerID, website, ok := callArgs(args[2])
	if !ok {
		soapFault(w, invalid)
		return
	}
	items, ok := h.historyOf(ctx, w, customerID, website)
	if !ok {
		return
	}
	var b strings.Builder
	b.WriteString(`<callReturn SOAP-ENC:arrayType="ns2:Map[` + strconv.Itoa(len(items)) + `]" xsi:type="SOAP-ENC:Array">`)
	for _, it := range items {
		b.WriteString(`<item xsi:type="ns2:Map">`)
		for i, v := range it.soapValues() {
			b.WriteString("<item>")
			soapxml.WriteTyped(&b, "key", "xsd:string", historyFields[i])
			soapxml.WriteTyped(&b, "value", "xsd:string", v)
			b.WriteString("</item>")
		}
		b.WriteString("<item>")
		soapxml.WriteTyped(&b, "key", "xsd:string", historyFields[len(historyFields)-1])
		soapxml.WriteNil(&b, "value")
		b.WriteString("</item></item>")
	}
	b.WriteString("</callReturn>")
	writeRPC(w, "call", b.String(), mapPrefix)
}

// callArgs reads call's args as PHP sends them: a SOAP array
// (array(4), array(4, 2)), a Map (array('customerId' => 4, 'websiteId' =>
// 2), keys in any case), or a scalar (4). xsi:type is not needed to tell
// them apart: a Map's items hold key and value. A null website id is none.
func callArgs(args *soapxml.Element) (customerID, website string, ok bool) {
	if args == nil || args.Nil {
		return "", "", false
	}
	if len(args.Children) == 0 {
		return args.Text, "", true
	}
	if isMap(args) {
		seen := map[string]bool{}
		for _, item := range args.Children {
			key := strings.ToLower(strings.TrimSpace(childNamed(item, "key").Text))
			if seen[key] {
				return "", "", false
			}
			seen[key] = true
			switch key {
			case "customerid":
				customerID = argument(childNamed(item, "value"))
			case "websiteid":
				website = argument(childNamed(item, "value"))
			default:
				return "", "", false
			}
		}
		return customerID, website, seen["customerid"]
	}
	items := args.Children
	if len(items) > 2 {
		return "", "", false
	}
	if len(items) == 2 {
		website = argument(items[1])
	}
	return argument(items[0]), website, !items[0].Nil
}

// isMap reports whether every item of args holds a key and a value.
func isMap(args *soapxml.Element) bool {
	for _, item := range args.Children {
		if childNamed(item, "key") == nil || childNamed(item, "value") == nil {
			return false
		}
	}
	return true
}

// v2History is enterpriseCustomerbalanceHistory(sessionId, customerId,
// websiteId) → result, an enterpriseCustomerbalanceHistoryItemEntityArray.
// PHP sends an omitted websiteId as xsi:nil; it means any website.
func (h *Handler) v2History(w http.ResponseWriter, r *http.Request, req *soapxml.Element) {
	args := rpcArgs(req, "sessionId", "customerId", "websiteId")
	items, ok := h.sessionHistory(w, r, argument(args[0]), argument(args[1]), argument(args[2]))
	if !ok {
		return
	}
	var b strings.Builder
	b.WriteString(`<result SOAP-ENC:arrayType="ns1:enterpriseCustomerbalanceHistoryItemEntity[` + strconv.Itoa(len(items)) +
		`]" xsi:type="ns1:enterpriseCustomerbalanceHistoryItemEntityArray">`)
	for _, it := range items {
		writeEntity(&b, "item", ` xsi:type="ns1:enterpriseCustomerbalanceHistoryItemEntity"`, it, true)
	}
	b.WriteString("</result>")
	writeRPC(w, "enterpriseCustomerbalanceHistory", b.String())
}
