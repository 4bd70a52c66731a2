// Package soapxml is the gateway's XML edge for SOAP 1.1: it reads an
// envelope into a small namespace-aware tree (any prefixes, xsi:type
// ignored, xsi:nil understood), refuses what a safe parser must (DTDs and
// entity declarations, oversized or too deep documents), and writes
// envelopes and Faults. It knows no dialect; Exigo and Magento build on it.
package soapxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Namespaces of SOAP 1.1 and XML Schema.
const (
	EnvelopeNS = "http://schemas.xmlsoap.org/soap/envelope/"
	XSINS      = "http://www.w3.org/2001/XMLSchema-instance"
	XSDNS      = "http://www.w3.org/2001/XMLSchema"
)

// Limits of what Parse reads.
const (
	// MaxBytes is the largest body read; a SOAP request of these dialects
	// is a few kilobytes.
	MaxBytes = 1 << 20
	maxDepth = 32
	maxNodes = 10000
)

// Element is one element of a parsed document.
type Element struct {
	Space, Local string // the namespace URI, not the prefix
	Nil          bool   // xsi:nil="true"
	Text         string // the character data directly inside it
	Children     []*Element
	// Attrs are its attributes but the namespace declarations, in document
	// order; values are as written (a QName value keeps its prefix).
	Attrs []Attr
}

// Attr is one attribute of an Element.
type Attr struct {
	Space, Local, Value string
}

// Child is the first child named local in space, or nil.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Local == local && c.Space == space {
			return c
		}
	}
	return nil
}

// Envelope is a parsed SOAP 1.1 envelope: the header entries and the one
// element of the body.
type Envelope struct {
	Header []*Element
	Body   *Element
}

// HeaderEntry is the header entry named local in space, or nil.
func (env *Envelope) HeaderEntry(space, local string) *Element {
	for _, h := range env.Header {
		if h.Local == local && h.Space == space {
			return h
		}
	}
	return nil
}

// Error is a malformed request; its message is meant for the client.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) *Error { return &Error{msg: fmt.Sprintf(format, args...)} }

// Parse reads a SOAP 1.1 envelope of at most MaxBytes. Every error it
// returns is an *Error, whose message says what is wrong.
func Parse(r io.Reader) (*Envelope, error) {
	root, err := ParseDocument(r)
	if err != nil {
		return nil, err
	}
	if root.Space != EnvelopeNS || root.Local != "Envelope" {
		return nil, errorf("The document is not a SOAP 1.1 Envelope (namespace %s).", EnvelopeNS)
	}
	env := &Envelope{}
	var body *Element
	for _, c := range root.Children {
		switch {
		case c.Space == EnvelopeNS && c.Local == "Header" && body == nil && env.Header == nil:
			env.Header = c.Children
		case c.Space == EnvelopeNS && c.Local == "Body" && body == nil:
			body = c
		default:
			return nil, errorf("The Envelope holds an unexpected element {%s}%s.", c.Space, c.Local)
		}
	}
	if body == nil {
		return nil, errorf("The Envelope has no Body.")
	}
	if len(body.Children) != 1 {
		return nil, errorf("The Body must hold exactly one element, it holds %d.", len(body.Children))
	}
	env.Body = body.Children[0]
	return env, nil
}

// ParseDocument reads any XML document of at most MaxBytes (a WSDL, say)
// into a tree, with the refusals of Parse; every error is an *Error.
func ParseDocument(r io.Reader) (*Element, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf("The request body is larger than %d bytes.", MaxBytes)
		}
		return nil, errorf("The request body could not be read.")
	}
	if len(raw) > MaxBytes {
		return nil, errorf("The request body is larger than %d bytes.", MaxBytes)
	}
	return parseTree(raw)
}

// parseTree reads a whole document. encoding/xml expands no entity but the
// five predefined ones and character references; a DTD (which could declare
// others) is refused outright.
func parseTree(raw []byte) (*Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported", label)
	}
	var root *Element
	var stack []*Element
	nodes := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errorf("The request is not well-formed XML: %v.", strings.TrimSuffix(err.Error(), "."))
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errorf("DTDs and entity declarations are not accepted.")
		case xml.StartElement:
			nodes++
			if nodes > maxNodes || len(stack) >= maxDepth {
				return nil, errorf("The document is too large or too deeply nested.")
			}
			e := &Element{Space: t.Name.Space, Local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				if a.Name.Space == XSINS && a.Name.Local == "nil" {
					v := strings.TrimSpace(a.Value)
					e.Nil = v == "true" || v == "1"
				}
				e.Attrs = append(e.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, e)
			case root != nil:
				return nil, errorf("The document has more than one root element.")
			default:
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errorf("The document has text outside its root element.")
			}
		}
	}
	if root == nil {
		return nil, errorf("The request body holds no XML document.")
	}
	return root, nil
}

// Fault codes of SOAP 1.1, with the soap prefix WriteEnvelope binds.
const (
	Client = "soap:Client"
	Server = "soap:Server"
)

// WriteFault answers a SOAP 1.1 Fault with HTTP 500.
func WriteFault(w http.ResponseWriter, code, message string) {
	var b strings.Builder
	b.WriteString("<soap:Fault><faultcode>")
	b.WriteString(code)
	b.WriteString("</faultcode><faultstring>")
	Escape(&b, message)
	b.WriteString("</faultstring></soap:Fault>")
	WriteEnvelope(w, http.StatusInternalServerError, b.String())
}

// WriteEnvelope answers body (XML text) inside a SOAP 1.1 envelope that
// binds soap, xsi and xsd.
func WriteEnvelope(w http.ResponseWriter, status int, body string) {
	writeEnvelope(w, status, "", body)
}

// writeEnvelope is WriteEnvelope with more attributes (XML text) on the
// Envelope element.
func writeEnvelope(w http.ResponseWriter, status int, attrs, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// Pieces, not one concatenation: the body is the bulk of the answer
	// and the response writer buffers anyway.
	_, _ = io.WriteString(w, envelopeOpen)
	_, _ = io.WriteString(w, attrs)
	_, _ = io.WriteString(w, `><soap:Body>`)
	_, _ = io.WriteString(w, body)
	_, _ = io.WriteString(w, `</soap:Body></soap:Envelope>`)
}

// envelopeOpen is every answer's start, up to the Envelope's own attributes.
const envelopeOpen = `<?xml version="1.0" encoding="utf-8"?>` +
	`<soap:Envelope xmlns:soap="` + EnvelopeNS + `" xmlns:xsi="` + XSINS + `" xmlns:xsd="` + XSDNS + `"`

// Escape writes s as XML character data, as xml.EscapeText writes it
// (quotes and the whitespace controls as character references), and
// characters XML 1.0 cannot hold, and bytes that are not UTF-8, as U+FFFD.
// It copies s's runs that need no escaping straight into b: most values
// need none, and EscapeText would first copy the whole value to bytes.
func Escape(b *strings.Builder, s string) {
	done := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !asciiEscaped[c] {
			i++
			continue
		}
		width, repl := 1, ""
		if c < utf8.RuneSelf {
			repl = asciiEscape(c)
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if r != utf8.RuneError || w > 1 {
				if xmlChar(r) {
					i += w
					continue
				}
			}
			repl = "\uFFFD"
		}
		b.WriteString(s[done:i])
		b.WriteString(repl)
		i += width
		done = i
	}
	b.WriteString(s[done:])
}

// asciiEscaped marks the ASCII bytes Escape replaces.
var asciiEscaped = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c < 0x20 || strings.IndexByte(`"'&<>`, byte(c)) >= 0
	}
	return t
}()

// asciiEscape is what Escape writes for an ASCII byte asciiEscaped marks.
func asciiEscape(c byte) string {
	switch c {
	case '"':
		return "&#34;"
	case '\'':
		return "&#39;"
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '\t':
		return "&#x9;"
	case '\n':
		return "&#xA;"
	case '\r':
		return "&#xD;"
	}
	return "\uFFFD"
}

// xmlChar says whether XML 1.0 can hold r (its Char production) for the
// runes Escape decodes, all at or above U+0080.
func xmlChar(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
