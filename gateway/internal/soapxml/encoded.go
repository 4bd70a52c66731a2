package soapxml

import (
	"net/http"
	"strings"
)

// EncodingNS is SOAP 1.1 encoding, the namespace of rpc/encoded arrays
// (bound as SOAP-ENC by WriteEncodedEnvelope).
const EncodingNS = "http://schemas.xmlsoap.org/soap/encoding/"

// Namespace is a prefix an envelope binds besides soap, xsi and xsd.
type Namespace struct{ Prefix, URI string }

// WriteEncodedEnvelope answers an rpc/encoded body as PHP's SoapServer
// frames one: the envelope binds SOAP-ENC and ns besides soap, xsi and xsd,
// and declares the SOAP encoding style, so that the body's xsi:type and
// SOAP-ENC:arrayType values resolve.
func WriteEncodedEnvelope(w http.ResponseWriter, status int, body string, ns ...Namespace) {
	var b strings.Builder
	b.WriteString(` xmlns:SOAP-ENC="` + EncodingNS + `"`)
	for _, n := range ns {
		b.WriteString(` xmlns:` + n.Prefix + `="`)
		Escape(&b, n.URI)
		b.WriteString(`"`)
	}
	b.WriteString(` soap:encodingStyle="` + EncodingNS + `"`)
	writeEnvelope(w, status, b.String(), body)
}

// WriteText writes <name>text</name>.
func WriteText(b *strings.Builder, name, text string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	Escape(b, text)
	writeEnd(b, name)
}

// writeEnd writes </name>, piece by piece: a concatenation would build a
// string of its own for every field.
func writeEnd(b *strings.Builder, name string) {
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// WriteTyped writes <name xsi:type="typ">text</name>, an rpc/encoded value
// whose type the reader cannot learn from the WSDL (xsd:anyType).
func WriteTyped(b *strings.Builder, name, typ, text string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteString(` xsi:type="`)
	b.WriteString(typ)
	b.WriteString(`">`)
	Escape(b, text)
	writeEnd(b, name)
}

// WriteNil writes <name xsi:nil="true"/>, a null.
func WriteNil(b *strings.Builder, name string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteString(` xsi:nil="true"/>`)
}
