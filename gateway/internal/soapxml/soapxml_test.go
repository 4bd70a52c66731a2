package soapxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

const env11 = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` +
	`<s:Header><a:Auth xmlns:a="urn:x"><a:User>u</a:User></a:Auth></s:Header>` +
	`<s:Body><Op xmlns="urn:x"><A i:nil="true"/><B></B><C i:nil="false">c</C></Op></s:Body></s:Envelope>`

func TestParse(t *testing.T) {
	t.Parallel()
	env, err := Parse(strings.NewReader(env11))
	if err != nil {
		t.Fatal(err)
	}
	if env.Body.Space != "urn:x" || env.Body.Local != "Op" {
		t.Errorf("body = {%s}%s", env.Body.Space, env.Body.Local)
	}
	if a := env.HeaderEntry("urn:x", "Auth"); a.Child("urn:x", "User").Text != "u" {
		t.Errorf("header entry = %+v", a)
	}
	if !env.Body.Child("urn:x", "A").Nil || env.Body.Child("urn:x", "B").Nil || env.Body.Child("urn:x", "C").Text != "c" {
		t.Errorf("children = %+v", env.Body.Children)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	const open = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">`
	for name, doc := range map[string]string{
		"empty":           ``,
		"not XML":         `hello`,
		"unclosed":        open + `<s:Body><x/>`,
		"SOAP 1.2":        `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>`,
		"no body":         open + `</s:Envelope>`,
		"empty body":      open + `<s:Body/></s:Envelope>`,
		"two in body":     open + `<s:Body><x/><y/></s:Body></s:Envelope>`,
		"two bodies":      open + `<s:Body><x/></s:Body><s:Body><x/></s:Body></s:Envelope>`,
		"stray element":   open + `<s:Body><x/></s:Body><junk/></s:Envelope>`,
		"DTD":             `<!DOCTYPE s:Envelope [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + open + `<s:Body><x>&e;</x></s:Body></s:Envelope>`,
		"unknown entity":  open + `<s:Body><x>&e;</x></s:Body></s:Envelope>`,
		"two roots":       open + `<s:Body><x/></s:Body></s:Envelope><again/>`,
		"latin-1":         `<?xml version="1.0" encoding="ISO-8859-1"?>` + open + `<s:Body><x/></s:Body></s:Envelope>`,
		"too deep":        open + `<s:Body>` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</s:Body></s:Envelope>`,
		"too large":       open + `<s:Body><x>` + strings.Repeat("a", MaxBytes) + `</x></s:Body></s:Envelope>`,
		"text after root": open + `<s:Body><x/></s:Body></s:Envelope>trailing`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(doc))
			var e *Error
			if !errors.As(err, &e) || e.Error() == "" {
				t.Errorf("Parse = %v, want an *Error", err)
			}
		})
	}
}

func TestWriteFault(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteFault(w, Client, `a <b> & "c"`)
	if w.Code != 500 || w.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Errorf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	env, err := Parse(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Body.Child("", "faultstring").Text; got != `a <b> & "c"` {
		t.Errorf("faultstring = %q", got)
	}
}

// FuzzParse: no input panics, and every refusal is an *Error (so the
// gateway always answers a Fault).
func FuzzParse(f *testing.F) {
	f.Add([]byte(env11))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(strings.NewReader(string(data)))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %T %v, want an *Error", err, err)
			}
			return
		}
		if env.Body == nil {
			t.Fatal("Parse succeeded without a body element")
		}
	})
}

// escapeCases are values Escape must write exactly as xml.EscapeText does:
// plain, every escaped ASCII byte, other controls, multi-byte runes,
// runes XML cannot hold, and bytes that are not UTF-8.
var escapeCases = []string{
	"", "12.50", "order 1001", `a<b>&"c'd`, "tab\there\nnew\rline", "\x00\x01\x1f\x7f",
	"café € 𝄞", "\uFFFE\uFFFF\uFFFD", "bad \xff\xfe byte", "\xe2\x82", "end&",
}

func TestEscapeMatchesEncodingXML(t *testing.T) {
	t.Parallel()
	for _, s := range escapeCases {
		checkEscape(t, s)
	}
}

// checkEscape fails t when Escape writes s other than encoding/xml does.
func checkEscape(t *testing.T, s string) {
	t.Helper()
	var want bytes.Buffer
	_ = xml.EscapeText(&want, []byte(s))
	var got strings.Builder
	Escape(&got, s)
	if got.String() != want.String() {
		t.Errorf("Escape(%q) = %q, encoding/xml writes %q", s, got.String(), want.String())
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range escapeCases {
		f.Add(s)
	}
	f.Fuzz(checkEscape)
}

func TestTypedFields(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	WriteTyped(&b, "amount", "xsd:string", "5 < 6")
	WriteText(&b, "comment", "a&b")
	WriteNil(&b, "website")
	const want = `<amount xsi:type="xsd:string">5 &lt; 6</amount><comment>a&amp;b</comment><website xsi:nil="true"/>`
	if b.String() != want {
		t.Errorf("got %s, want %s", b.String(), want)
	}
}
