package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

const (
	soapAuth = `<soap:Header><ApiAuthentication xmlns="http://api.exigo.com/"><LoginName>jdoe</LoginName>` +
		`<Password>exigo-pw</Password><Company>acme</Company><Identity/><RequestTimeUtc>0001-01-01T00:00:00</RequestTimeUtc>` +
		`</ApiAuthentication></soap:Header>`
	soapBadAuth = `<soap:Header><ApiAuthentication xmlns="http://api.exigo.com/"><LoginName>jdoe</LoginName>` +
		`<Password>nope</Password><Company>acme</Company></ApiAuthentication></soap:Header>`
)

// soapEnvelope wraps header and body as the seeds' .NET example does.
func soapEnvelope(header, body string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		header + `<soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

func soapFaultXML(code, msg string) string {
	return soapEnvelope("", `<soap:Fault><faultcode>`+code+`</faultcode><faultstring>`+msg+`</faultstring></soap:Fault>`)
}

const soapResultOK = `<Result><Status>Success</Status><Errors/><TransactionKey>&lt;uuid&gt;</TransactionKey></Result>`

func TestExigoSOAP(t *testing.T) {
	t.Parallel()
	balances := func(inner string) string {
		return `<GetCustomerBalancesRequest xmlns="http://api.exigo.com/">` + inner + `</GetCustomerBalancesRequest>`
	}
	nilFields := ""
	for i := 1; i <= 30; i++ {
		if i != 3 {
			nilFields += fmt.Sprintf(`<Field%d xsi:nil="true"/>`, i)
		}
	}
	usdGbp := soapEnvelope("", `<GetCustomerBalancesResult xmlns="http://api.exigo.com/">`+soapResultOK+`<CustomerBalances>`+
		`<CustomerBalanceResponse><CurrencyCode>GBP</CurrencyCode><CurrencyDescription>Pound Sterling</CurrencyDescription><Balance>-3.10</Balance></CustomerBalanceResponse>`+
		`<CustomerBalanceResponse><CurrencyCode>USD</CurrencyCode><CurrencyDescription>US Dollar</CurrencyDescription><Balance>1400000.00</Balance></CustomerBalanceResponse>`+
		`</CustomerBalances></GetCustomerBalancesResult>`)
	action := func(op string) map[string]string {
		return map[string]string{"SOAPAction": `"https://api.exigo.com/` + op + `"`, "Content-Type": "text/xml; charset=utf-8"}
	}
	tests := []struct {
		name, target, body string
		header             map[string]string
		wantStatus         int
		want               string
	}{
		{name: "balances by id", body: soapEnvelope(soapAuth, balances(`<CustomerID>7</CustomerID>`)),
			wantStatus: http.StatusOK, want: usdGbp},
		{name: "balances by key, other prefixes, xsi:type, old SOAPAction, any case path", target: "/3.0/exigoapi.ASMX",
			header: map[string]string{"SOAPAction": `"http://api.exigo.com/GetCustomerBalances"`},
			body: `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://api.exigo.com/" ` +
				`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><SOAP-ENV:Header>` +
				`<ns1:ApiAuthentication><ns1:LoginName>jdoe</ns1:LoginName><ns1:Password>exigo-pw</ns1:Password><ns1:Company>acme</ns1:Company>` +
				`</ns1:ApiAuthentication></SOAP-ENV:Header><SOAP-ENV:Body><ns1:GetCustomerBalancesRequest>` +
				`<ns1:CustomerID xsi:type="xsd:int">0</ns1:CustomerID><ns1:CustomerKey xsi:type="xsd:string">K7</ns1:CustomerKey>` +
				`</ns1:GetCustomerBalancesRequest></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
			wantStatus: http.StatusOK, want: usdGbp},
		{name: "wrong password", body: soapEnvelope(soapBadAuth, balances(`<CustomerID>7</CustomerID>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "Invalid login, company or password.")},
		{name: "no header", body: soapEnvelope("", balances(`<CustomerID>7</CustomerID>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "Invalid login, company or password.")},
		{name: "unknown customer", body: soapEnvelope(soapAuth, balances(`<CustomerID>99</CustomerID>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "No customer has customerID 99.")},
		{name: "both ids", body: soapEnvelope(soapAuth, balances(`<CustomerID>7</CustomerID><CustomerKey>K7</CustomerKey>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "Send customerID or customerKey, not both.")},
		{name: "neither id", body: soapEnvelope(soapAuth, balances(`<CustomerID>0</CustomerID>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "customerID or customerKey is required.")},
		{name: "ledger down is the server's", body: soapEnvelope(soapAuth, balances(`<CustomerID>9</CustomerID>`)),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Server", "Service temporarily unavailable. Try again later.")},
		{name: "malformed envelope", body: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`,
			wantStatus: http.StatusInternalServerError},
		{name: "not an envelope", body: `<Envelope/>`,
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "The document is not a SOAP 1.1 Envelope (namespace http://schemas.xmlsoap.org/soap/envelope/).")},
		{name: "DTD refused", body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>` + soapEnvelope(soapAuth, balances(`<CustomerID>7</CustomerID>`))[len(`<?xml version="1.0" encoding="utf-8"?>`):],
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "DTDs and entity declarations are not accepted.")},
		{name: "unknown operation", body: soapEnvelope(soapAuth, `<GetOrders xmlns="http://api.exigo.com/"/>`),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "Unknown operation {http://api.exigo.com/}GetOrders.")},
		{name: "extended, nil fields, no id", header: action("UpdateCustomerExtended"),
			body: soapEnvelope(soapAuth, `<UpdateCustomerExtendedRequest xmlns="http://api.exigo.com/"><CustomerID>0</CustomerID>`+
				`<ExtendedGroupID>1</ExtendedGroupID><CustomerExtendedID>2</CustomerExtendedID>`+nilFields+`<Field3>x</Field3></UpdateCustomerExtendedRequest>`),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Client", "customerID or customerKey is required.")},
		{name: "extended, service unimplemented is the server's", header: action("UpdateCustomerExtended"),
			body: soapEnvelope(soapAuth, `<UpdateCustomerExtendedRequest xmlns="http://api.exigo.com/"><CustomerID>42</CustomerID>`+
				`<ExtendedGroupID>1</ExtendedGroupID><CustomerExtendedID>2</CustomerExtendedID>`+nilFields+`<Field3>x</Field3></UpdateCustomerExtendedRequest>`),
			wantStatus: http.StatusInternalServerError, want: soapFaultXML("soap:Server", "Not implemented yet.")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			target := tc.target
			if target == "" {
				target = "/3.0/ExigoApi.asmx"
			}
			header := tc.header
			if header == nil {
				header = action("GetCustomerBalances")
			}
			w := e.serve(http.MethodPost, target, header, strings.NewReader(tc.body))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d; body %s", w.Code, tc.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			got, err := soapxml.Parse(w.Body)
			if err != nil {
				t.Fatalf("answer is not an envelope: %v", err)
			}
			if tc.want == "" {
				if got.Body.Local != "Fault" || got.Body.Child("", "faultcode").Text != "soap:Client" {
					t.Errorf("answer is not a Client fault: %+v", got.Body)
				}
				return
			}
			want, err := soapxml.Parse(strings.NewReader(tc.want))
			if err != nil {
				t.Fatalf("bad expectation: %v", err)
			}
			if diff := cmp.Diff(canonical(want.Body), canonical(normalizeKeys(t, got.Body))); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// canonical drops the white space between elements and sorts attributes,
// so that documents are compared by meaning.
func canonical(e *soapxml.Element) *soapxml.Element {
	out := &soapxml.Element{Space: e.Space, Local: e.Local, Nil: e.Nil, Text: e.Text,
		Attrs: slices.SortedFunc(slices.Values(e.Attrs), func(a, b soapxml.Attr) int {
			return strings.Compare(a.Space+" "+a.Local, b.Space+" "+b.Local)
		})}
	if len(e.Children) > 0 {
		out.Text = strings.TrimSpace(e.Text)
	}
	for _, c := range e.Children {
		out.Children = append(out.Children, canonical(c))
	}
	return out
}

// normalizeKeys checks each TransactionKey is a v4 UUID and replaces it.
func normalizeKeys(t *testing.T, e *soapxml.Element) *soapxml.Element {
	if e.Local == "TransactionKey" {
		if id, err := uuid.Parse(e.Text); err != nil || id.Version() != 4 {
			t.Errorf("TransactionKey %q is not a v4 UUID", e.Text)
		}
		e.Text = "<uuid>"
	}
	for _, c := range e.Children {
		normalizeKeys(t, c)
	}
	return e
}

func TestExigoWSDL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, target := range []string{"/3.0/ExigoApi.asmx?WSDL", "/3.0/exigoapi.asmx?wsdl", "/3.0/ExigoApi.asmx?Wsdl="} {
		w := e.serve(http.MethodGet, target, nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", target, w.Code)
		}
		body := w.Body.String()
		for _, want := range []string{
			`<soap:address location="http://example.com/3.0/ExigoApi.asmx"/>`,
			`<wsdl:binding name="ExigoApiSoap"`, `<wsdl:service name="ExigoApi">`,
			`<s:element name="GetCustomerBalancesResult" type="tns:GetCustomerBalancesResponse"/>`,
			`<s:element name="UpdateCustomerExtendedResult" type="tns:UpdateCustomerExtendedResponse"/>`,
			`name="Field30" nillable="true"`, `name="RequestTimeUtc" type="s:dateTime"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: WSDL lacks %s", target, want)
			}
		}
		if n := strings.Count(body, `<soap:header message="tns:ApiAuthenticationHeader"`); n != 2 {
			t.Errorf("%s: %d operations declare the ApiAuthentication header, want 2", target, n)
		}
		if strings.Contains(body, "schemaLocation") || strings.Contains(body, "import") {
			t.Errorf("%s: WSDL imports something; it must load offline", target)
		}
	}
}

// Behind an ingress the WSDL gives ABACUS_PUBLIC_URL, not the request's host.
func TestExigoWSDLPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{publicURL: "https://api.example.org/"})
	w := e.serve(http.MethodGet, "/3.0/ExigoApi.asmx?wsdl", nil, nil)
	if want := `<soap:address location="https://api.example.org/3.0/ExigoApi.asmx"/>`; !strings.Contains(w.Body.String(), want) {
		t.Errorf("WSDL lacks %s", want)
	}
}

// A client that sends Expect: 100-continue (Mono does) gets its answer over
// a real connection.
func TestExigoSOAPExpectContinue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	body := soapEnvelope(soapAuth, `<GetCustomerBalancesRequest xmlns="http://api.exigo.com/"><CustomerID>7</CustomerID></GetCustomerBalancesRequest>`)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/3.0/ExigoApi.asmx", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	env, err := soapxml.Parse(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || env.Body.Local != "GetCustomerBalancesResult" {
		t.Fatalf("status %d, envelope %v, err %v", resp.StatusCode, env, err)
	}
}

// What is not an envelope POST is still answered with a Fault: an oversized
// body, GET without ?WSDL, another method.
func TestExigoSOAPEdges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		method, target, body string
		wantCode, wantText   string
	}{
		{http.MethodPost, "/3.0/ExigoApi.asmx", strings.Repeat("x", DefaultMaxBodyBytes+1), "soap:Client", "larger than"},
		{http.MethodGet, "/3.0/ExigoApi.asmx", "", "soap:Client", "WSDL"},
		{http.MethodPut, "/3.0/ExigoApi.asmx", "", "soap:Client", "PUT"},
	} {
		w := e.serve(tc.method, tc.target, nil, strings.NewReader(tc.body))
		env, err := soapxml.Parse(w.Body)
		if err != nil || w.Code != http.StatusInternalServerError {
			t.Fatalf("%s %s: status %d, err %v", tc.method, tc.target, w.Code, err)
		}
		if code := env.Body.Child("", "faultcode").Text; code != tc.wantCode {
			t.Errorf("%s: faultcode %q", tc.method, code)
		}
		if s := env.Body.Child("", "faultstring").Text; !strings.Contains(s, tc.wantText) {
			t.Errorf("%s: faultstring %q lacks %q", tc.method, s, tc.wantText)
		}
	}
}
