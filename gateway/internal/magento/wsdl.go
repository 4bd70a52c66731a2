package magento

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// serveWSDL answers the endpoint's WSDL. Its address ends with the path
// the WSDL was fetched at, /index.php included, so that a client posts
// where it looked.
func (h *Handler) serveWSDL(w http.ResponseWriter, r *http.Request, ep endpoint) {
	template := wsdlV1
	switch {
	case ep == wsi, ep == v2 && h.soap.WSI:
		template = wsdlWSI
	case ep == v2:
		template = wsdlV2
	}
	soapxml.WriteWSDL(w, r, template, h.soap.PublicURL, r.URL.Path)
}

// entityFields are enterpriseCustomerbalanceHistoryItemEntity's elements,
// each an optional, nillable string (base_currency_code comes as xsi:nil).
var entityFields = func() string {
	var b strings.Builder
	for _, f := range historyFields {
		fmt.Fprintf(&b, `
          <xsd:element name="%s" type="xsd:string" minOccurs="0" nillable="true"/>`, f)
	}
	return b.String()
}()

// wsdlHead opens every Magento WSDL: the namespaces, and the schema's
// import of SOAP encoding without a schemaLocation, so that it loads
// offline (PHP's SoapClient fails on a location it cannot fetch) — v2
// names a location the gateway serves itself (encodingImportAt).
const wsdlHead = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:typens="urn:Magento"
    name="Magento" targetNamespace="urn:Magento">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:Magento">
      ` + encodingImport

// encodingImport imports SOAP encoding by namespace alone. zeep, though,
// fetches a schema for every namespace whose names a WSDL uses, from the
// namespace URI itself when none is given, and so fails offline on v2's
// soapenc:Array. v2 therefore gives the location of encodingSchema, which
// the endpoint serves at ?xsd=soapenc (encodingImportAt; %s is the
// endpoint's address); PHP, Mono and node-soap load it as well.
const (
	encodingImport   = `<xsd:import namespace="http://schemas.xmlsoap.org/soap/encoding/"/>`
	encodingImportAt = `<xsd:import namespace="http://schemas.xmlsoap.org/soap/encoding/" schemaLocation="%s?xsd=soapenc"/>`
)

// encodingSchema declares what Magento's v2 WSDL uses of SOAP encoding:
// the Array type and its arrayType attribute. It names nothing in its own
// namespace by QName, so that zeep does not go looking for it again.
const encodingSchema = `<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://schemas.xmlsoap.org/soap/encoding/">
  <xsd:attribute name="arrayType" type="xsd:string"/>
  <xsd:complexType name="Array">
    <xsd:sequence>
      <xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax"/>
    </xsd:sequence>
    <xsd:anyAttribute processContents="lax"/>
  </xsd:complexType>
</xsd:schema>
`

// wantsEncodingSchema reports whether r asks for encodingSchema.
func wantsEncodingSchema(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	return err == nil && q.Get("xsd") == "soapenc"
}

// serveEncodingSchema answers encodingSchema.
func serveEncodingSchema(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, encodingSchema)
}

// entityTypes are the history entity's schema type, and its array's
// (XML text, arrayType for SOAP encoding's, or the WS-I form's).
func entityTypes(arrayType string) string {
	return `
      <xsd:complexType name="enterpriseCustomerbalanceHistoryItemEntity">
        <xsd:sequence>` + entityFields + `
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="enterpriseCustomerbalanceHistoryItemEntityArray">` + arrayType + `
      </xsd:complexType>`
}

// schemaEnd closes what wsdlHead opens.
const schemaEnd = `
    </xsd:schema>
  </wsdl:types>`

// message declares a message of parts, given as name, type pairs; a type
// of the form element:X makes the part that element.
func message(name string, parts ...string) string {
	var b strings.Builder
	b.WriteString(`
  <wsdl:message name="` + name + `">`)
	for i := 0; i+1 < len(parts); i += 2 {
		kind, typ := "type", parts[i+1]
		if el, ok := strings.CutPrefix(typ, "element:"); ok {
			kind, typ = "element", el
		}
		b.WriteString(`
    <wsdl:part name="` + parts[i] + `" ` + kind + `="` + typ + `"/>`)
	}
	b.WriteString(`
  </wsdl:message>`)
	return b.String()
}

// The binding styles: style, and the body element of each message.
const (
	rpcEncoded = `rpc|<soap:body use="encoded" namespace="urn:Magento" encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"/>`
	docLiteral = `document|<soap:body use="literal"/>`
)

// portBindingService closes a WSDL: the port type and binding named
// handler+"PortType" and handler+"Binding", declaring ops with the messages
// {op}{in} and {op}{out}, in style (rpcEncoded or docLiteral) with
// soapAction action; then the service MagentoService with one port, whose
// address is %s.
func portBindingService(handler string, ops []string, in, out, action, style string) string {
	styleName, body, _ := strings.Cut(style, "|")
	var port, binding strings.Builder
	for _, op := range ops {
		port.WriteString(`
    <wsdl:operation name="` + op + `">
      <wsdl:input message="typens:` + op + in + `"/>
      <wsdl:output message="typens:` + op + out + `"/>
    </wsdl:operation>`)
		binding.WriteString(`
    <wsdl:operation name="` + op + `">
      <soap:operation soapAction="` + action + `"/>
      <wsdl:input>
        ` + body + `
      </wsdl:input>
      <wsdl:output>
        ` + body + `
      </wsdl:output>
    </wsdl:operation>`)
	}
	return `
  <wsdl:portType name="` + handler + `PortType">` + port.String() + `
  </wsdl:portType>
  <wsdl:binding name="` + handler + `Binding" type="typens:` + handler + `PortType">
    <soap:binding style="` + styleName + `" transport="http://schemas.xmlsoap.org/soap/http"/>` + binding.String() + `
  </wsdl:binding>
  <wsdl:service name="MagentoService">
    <wsdl:port name="` + handler + `Port" binding="typens:` + handler + `Binding">
      <soap:address location="%s"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`
}
