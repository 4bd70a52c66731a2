package server

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ with the answers got")

// The fake customer service's Magento sessions: login mage/mage-key opens
// magentoSID; the API user "down" and the session "outage" find the service
// unavailable; any other session is unknown.
const (
	magentoSID    = "0123456789abcdef0123456789abcdef"
	magentoOutage = "outage"
)

func fakeMagentoSession(id string) error {
	switch id {
	case magentoSID:
		return nil
	case magentoOutage:
		return status.Error(codes.Unavailable, "connection refused")
	}
	return status.Error(codes.Unauthenticated, "unknown session")
}

func (fakeTenantAdmin) StartMagentoSession(_ context.Context, req *customerv1.StartMagentoSessionRequest) (*customerv1.StartMagentoSessionResponse, error) {
	c := req.GetCredential()
	switch {
	case c.GetApiUser() == "down":
		return nil, status.Error(codes.Unavailable, "connection refused")
	case c.GetApiUser() != "mage" || c.GetApiKey() != "mage-key":
		return nil, status.Error(codes.Unauthenticated, "invalid credential")
	}
	return &customerv1.StartMagentoSessionResponse{SessionId: magentoSID, TenantId: "t-magento", CredentialId: "cred-1"}, nil
}

func (fakeTenantAdmin) EndMagentoSession(_ context.Context, req *customerv1.EndMagentoSessionRequest) (*customerv1.EndMagentoSessionResponse, error) {
	if req.GetSessionId() == magentoOutage {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	return &customerv1.EndMagentoSessionResponse{}, nil
}

// phpEnvelope is an rpc/encoded request as PHP's SoapClient frames it.
func phpEnvelope(op, params string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:Magento" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:ns2="http://xml.apache.org/xml-soap" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" ` +
		`SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body>` +
		`<ns1:` + op + `>` + params + `</ns1:` + op + `></SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

// xs is a typed rpc argument; xnil a null one.
func xs(name, value string) string {
	return `<` + name + ` xsi:type="xsd:string">` + value + `</` + name + `>`
}
func xnil(name string) string { return `<` + name + ` xsi:nil="true"/>` }

// literal is a WS-I request as zeep frames it: another prefix, children
// unqualified.
func literal(element, children string) string {
	return `<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>` +
		`<ns0:` + element + ` xmlns:ns0="urn:Magento">` + children + `</ns0:` + element + `></soap-env:Body></soap-env:Envelope>`
}

func callArgs(args string) string {
	return xs("sessionId", magentoSID) + xs("resourcePath", "storecredit.history") + args
}

// TestMagentoSOAP posts each request and compares the answer with its
// golden file in testdata/magento_soap/ (go test -run TestMagentoSOAP
// -update rewrites them) as XML, by meaning.
func TestMagentoSOAP(t *testing.T) {
	t.Parallel()
	const (
		v1Path  = "/api/soap/"
		v2Path  = "/api/v2_soap/"
		wsiPath = "/api/v2_soap/wsi/"
	)
	login := xs("username", "mage") + xs("apiKey", "mage-key")
	v2History := func(session, customer, website string) string {
		return phpEnvelope("enterpriseCustomerbalanceHistory", xs("sessionId", session)+xs("customerId", customer)+website)
	}
	wsiHistory := func(children string) string {
		return literal("enterpriseCustomerbalanceHistoryRequestParam", children)
	}
	tests := []struct {
		golden, path, body string
		status             int
	}{
		// v1
		{"v1_login", v1Path, phpEnvelope("login", login), http.StatusOK},
		{"v1_login", "/index.php/api/soap", phpEnvelope("login", login), http.StatusOK},
		{"v1_login", v1Path, phpEnvelope("login", xs("param0", "mage")+xs("param1", "mage-key")), http.StatusOK},
		{"v1_login_denied", v1Path, phpEnvelope("login", xs("username", "mage")+xs("apiKey", "nope")), http.StatusInternalServerError},
		{"v1_login_denied", v1Path, phpEnvelope("login", ""), http.StatusInternalServerError},
		{"outage", v1Path, phpEnvelope("login", xs("username", "down")+xs("apiKey", "k")), http.StatusInternalServerError},
		{"v1_call", v1Path, phpEnvelope("call", callArgs(`<args SOAP-ENC:arrayType="xsd:int[1]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:int">4</item></args>`)), http.StatusOK},
		{"v1_call", v1Path, phpEnvelope("call", callArgs(`<args SOAP-ENC:arrayType="xsd:int[2]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:int">4</item><item xsi:type="xsd:int">2</item></args>`)), http.StatusOK},
		{"v1_call", v1Path, phpEnvelope("call", callArgs(`<args xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:string">4</item><item xsi:nil="true"/></args>`)), http.StatusOK},
		{"v1_call", v1Path, phpEnvelope("call", callArgs(`<args xsi:type="ns2:Map"><item><key xsi:type="xsd:string">customerId</key><value xsi:type="xsd:int">4</value></item>`+
			`<item><key xsi:type="xsd:string">WebsiteId</key><value xsi:type="xsd:int">2</value></item></args>`)), http.StatusOK},
		{"v1_call", v1Path, phpEnvelope("call", callArgs(`<args xsi:type="xsd:int">4</args>`)), http.StatusOK},
		{"v1_call", v1Path, phpEnvelope("call", xs("sessionId", magentoSID)+xs("resourcePath", "enterprise_customerbalance.history")+`<args>4</args>`), http.StatusOK},
		{"v1_call", "/index.php/api/soap/", phpEnvelope("call", xs("param0", magentoSID)+xs("param1", "storecredit.history")+`<param2>4</param2>`), http.StatusOK},
		{"invalid_api_path", v1Path, phpEnvelope("call", xs("sessionId", magentoSID)+xs("resourcePath", "customer.list")+`<args>4</args>`), http.StatusInternalServerError},
		{"session_expired", v1Path, phpEnvelope("call", xs("sessionId", "feedfacefeedfacefeedfacefeedface")+xs("resourcePath", "customer.list")+`<args>4</args>`), http.StatusInternalServerError},
		{"session_expired", v1Path, phpEnvelope("call", xs("sessionId", "not hex")+xs("resourcePath", "storecredit.history")+`<args>4</args>`), http.StatusInternalServerError},
		{"outage", v1Path, phpEnvelope("call", xs("sessionId", magentoOutage)+xs("resourcePath", "storecredit.history")+`<args>4</args>`), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args>0</args>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args xsi:nil="true"/>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args><item>4</item><item>-1</item></args>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args><item>4</item><item>2</item><item>1</item></args>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args><item><key>customer</key><value>4</value></item></args>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args><item><key>customerId</key><value>4</value></item><item><key>customerid</key><value>5</value></item></args>`)), http.StatusInternalServerError},
		{"invalid_data", v1Path, phpEnvelope("call", callArgs(`<args><item><key>websiteId</key><value>2</value></item></args>`)), http.StatusInternalServerError},
		{"no_history", v1Path, phpEnvelope("call", callArgs(`<args>5</args>`)), http.StatusInternalServerError},
		{"no_history", v1Path, phpEnvelope("call", callArgs(`<args>77</args>`)), http.StatusInternalServerError},
		{"outage", v1Path, phpEnvelope("call", callArgs(`<args>9</args>`)), http.StatusInternalServerError},
		{"not_implemented", v1Path, phpEnvelope("call", callArgs(`<args>6</args>`)), http.StatusInternalServerError},
		{"end_session", v1Path, phpEnvelope("endSession", xs("sessionId", magentoSID)), http.StatusOK},
		{"end_session", v1Path, phpEnvelope("endSession", xs("sessionId", "never-opened")), http.StatusOK},
		{"outage", v1Path, phpEnvelope("endSession", xs("sessionId", magentoOutage)), http.StatusInternalServerError},
		{"v1_unknown_operation", v1Path, phpEnvelope("enterpriseCustomerbalanceHistory", xs("sessionId", magentoSID)), http.StatusInternalServerError},
		// v2
		{"v2_login", v2Path, phpEnvelope("login", login), http.StatusOK},
		{"v2_login", "/index.php/api/v2_soap", phpEnvelope("login", login), http.StatusOK},
		{"v2_history", v2Path, v2History(magentoSID, "4", xnil("websiteId")), http.StatusOK},
		{"v2_history", v2Path, v2History(magentoSID, "4", ""), http.StatusOK},
		{"v2_history", v2Path, v2History(magentoSID, " 4 ", xs("websiteId", "2")), http.StatusOK},
		{"v2_history", wsiPath, v2History(magentoSID, "4", xs("websiteId", "")), http.StatusOK},
		{"invalid_data", v2Path, v2History(magentoSID, "4", xs("websiteId", "-1")), http.StatusInternalServerError},
		{"invalid_data", v2Path, v2History(magentoSID, "four", ""), http.StatusInternalServerError},
		{"invalid_data", v2Path, v2History(magentoSID, "2147483648", ""), http.StatusInternalServerError},
		{"no_history", v2Path, v2History(magentoSID, "5", ""), http.StatusInternalServerError},
		{"session_expired", v2Path, v2History("", "4", ""), http.StatusInternalServerError},
		{"outage", v2Path, v2History(magentoSID, "9", ""), http.StatusInternalServerError},
		{"end_session", "/index.php/api/v2_soap/", phpEnvelope("endSession", xs("sessionId", magentoSID)), http.StatusOK},
		{"v2_unknown_operation", v2Path, phpEnvelope("call", callArgs(`<args>4</args>`)), http.StatusInternalServerError},
		// WS-I, at its own address and at v2's
		{"wsi_login", wsiPath, literal("loginParam", `<username>mage</username><apiKey>mage-key</apiKey>`), http.StatusOK},
		{"wsi_login", v2Path, literal("loginParam", `<username>mage</username><apiKey>mage-key</apiKey>`), http.StatusOK},
		{"v1_login_denied", "/index.php/api/v2_soap/wsi", literal("loginParam", `<username>mage</username><apiKey>x</apiKey>`), http.StatusInternalServerError},
		{"wsi_history", wsiPath, wsiHistory(`<sessionId>` + magentoSID + `</sessionId><customerId>4</customerId><websiteId>2</websiteId>`), http.StatusOK},
		{"wsi_history", v2Path, wsiHistory(`<sessionId>` + magentoSID + `</sessionId><customerId>4</customerId>`), http.StatusOK},
		{"invalid_data", wsiPath, wsiHistory(`<sessionId>` + magentoSID + `</sessionId>`), http.StatusInternalServerError},
		{"session_expired", wsiPath, wsiHistory(`<customerId>4</customerId>`), http.StatusInternalServerError},
		{"no_history", wsiPath, wsiHistory(`<sessionId>` + magentoSID + `</sessionId><customerId>5</customerId>`), http.StatusInternalServerError},
		{"wsi_end_session", wsiPath, literal("endSessionParam", `<sessionId>`+magentoSID+`</sessionId>`), http.StatusOK},
		{"outage", wsiPath, literal("endSessionParam", `<sessionId>`+magentoOutage+`</sessionId>`), http.StatusInternalServerError},
		// the envelope itself
		{"wrong_namespace", v2Path, strings.Replace(phpEnvelope("login", login), `xmlns:ns1="urn:Magento"`, `xmlns:ns1="urn:Other"`, 1), http.StatusInternalServerError},
		{"not_an_envelope", v1Path, `<login xmlns="urn:Magento"/>`, http.StatusInternalServerError},
		{"not_xml", wsiPath, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>`, http.StatusInternalServerError},
		{"dtd", v1Path, `<!DOCTYPE x [<!ENTITY a "b">]>` + phpEnvelope("login", login)[len(`<?xml version="1.0" encoding="UTF-8"?>`):], http.StatusInternalServerError},
	}
	e := newEnv(t, envOptions{burst: 1000})
	for _, tc := range tests {
		t.Run(tc.golden+" "+tc.path, func(t *testing.T) {
			if !*update { // cases share golden files
				t.Parallel()
			}
			w := e.serve(http.MethodPost, tc.path, map[string]string{"Content-Type": "text/xml; charset=utf-8"}, strings.NewReader(tc.body))
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			checkGolden(t, filepath.Join("testdata", "magento_soap", tc.golden+".xml"), w.Body.String(), bodyOf)
		})
	}
}

// bodyOf is the element of an envelope's Body.
func bodyOf(t *testing.T, doc string) *soapxml.Element {
	t.Helper()
	env, err := soapxml.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not an envelope: %v\n%s", err, doc)
	}
	return env.Body
}

// documentOf is a whole document's root element.
func documentOf(t *testing.T, doc string) *soapxml.Element {
	t.Helper()
	root, err := soapxml.ParseDocument(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not XML: %v\n%s", err, doc)
	}
	return root
}

// checkGolden compares got with the golden file as XML, by meaning (see
// canonical); with -update it writes got instead. Many cases share a golden
// file, so -update writes it only when it differs.
func checkGolden(t *testing.T, path, got string, parse func(*testing.T, string) *soapxml.Element) {
	t.Helper()
	gotTree := canonical(parse(t, got))
	want, err := os.ReadFile(path)
	if err == nil {
		if diff := cmp.Diff(canonical(parse(t, string(want))), gotTree); diff == "" {
			return
		} else if !*update {
			t.Errorf("answer differs from %s (-want +got):\n%s", path, diff)
			return
		}
	} else if !*update {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMagentoWSDL compares each WSDL with its golden file: its address is
// the path it was fetched at, on ABACUS_PUBLIC_URL or the request's host,
// and ABACUS_MAGENTO_WSI puts the WS-I WSDL at v2's address.
func TestMagentoWSDL(t *testing.T) {
	t.Parallel()
	plain := newEnv(t, envOptions{})
	wsiOn := newEnv(t, envOptions{magentoWSI: true, publicURL: "https://shop.example.org/"})
	for _, tc := range []struct {
		e              *env
		target, golden string
	}{
		{plain, "/api/soap/?wsdl", "wsdl_v1"},
		{plain, "/index.php/api/soap/?wsdl=1", "wsdl_v1_index"},
		{plain, "/api/v2_soap/?wsdl", "wsdl_v2"},
		{plain, "/api/v2_soap?WSDL", "wsdl_v2_noslash"},
		{plain, "/api/v2_soap/wsi/?wsdl", "wsdl_wsi"},
		{wsiOn, "/api/v2_soap/?wsdl", "wsdl_wsi_at_v2"},
		{wsiOn, "/index.php/api/soap/?wsdl", "wsdl_v1_public"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			w := tc.e.serve(http.MethodGet, tc.target, nil, nil)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
			}
			body := w.Body.String()
			// Offline: SOAP encoding is imported by namespace alone, or from
			// the endpoint itself (v2, for zeep), and nothing else.
			if strings.Count(body, "import") != 1 || !strings.Contains(body, `<xsd:import namespace="http://schemas.xmlsoap.org/soap/encoding/"`) {
				t.Errorf("WSDL imports more than SOAP encoding")
			}
			if _, loc, ok := strings.Cut(body, `schemaLocation="`); ok {
				loc, _, _ = strings.Cut(loc, `"`)
				address := regexp.MustCompile(`<soap:address location="([^"]*)"`).FindStringSubmatch(body)
				if len(address) != 2 || loc != address[1]+"?xsd=soapenc" {
					t.Fatalf("SOAP encoding's schemaLocation %q is not the endpoint's own (%q)", loc, address)
				}
				u, err := url.Parse(loc)
				if err != nil {
					t.Fatal(err)
				}
				xsd := tc.e.serve(http.MethodGet, u.RequestURI(), nil, nil)
				schema := xsd.Body.String()
				if _, err := soapxml.ParseDocument(strings.NewReader(schema)); xsd.Code != http.StatusOK || err != nil ||
					!strings.Contains(schema, `<xsd:complexType name="Array">`) {
					t.Errorf("GET %s: %d, %v\n%s", u.RequestURI(), xsd.Code, err, schema)
				}
			}
			checkGolden(t, filepath.Join("testdata", "magento_soap", tc.golden+".xml"), body, documentOf)
		})
	}
}

// What is not an envelope POST is a soap:Client fault; a throttled client
// gets Retry-After.
func TestMagentoSOAPEdges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{burst: 1})
	for _, tc := range []struct {
		method, target, body string
		wantCode, wantText   string
	}{
		{http.MethodPost, "/api/v2_soap/", strings.Repeat("x", DefaultMaxBodyBytes+1), "soap:Client", "larger than"},
		{http.MethodGet, "/api/v2_soap/", "", "soap:Client", "?WSDL"},
		{http.MethodPut, "/api/soap/", "", "soap:Client", "PUT"},
		{http.MethodPost, "/api/soap/", phpEnvelope("login", xs("username", "mage")+xs("apiKey", "bad")), "2", "Access denied."},
		{http.MethodPost, "/api/soap/", phpEnvelope("login", xs("username", "mage")+xs("apiKey", "mage-key")), "429", "Too many failed"},
	} {
		w := e.serve(tc.method, tc.target, nil, strings.NewReader(tc.body))
		env, err := soapxml.Parse(w.Body)
		if err != nil || w.Code != http.StatusInternalServerError {
			t.Fatalf("%s %s: status %d, err %v", tc.method, tc.target, w.Code, err)
		}
		if code := env.Body.Child("", "faultcode").Text; code != tc.wantCode {
			t.Errorf("%s %s: faultcode %q, want %q", tc.method, tc.target, code, tc.wantCode)
		}
		if s := env.Body.Child("", "faultstring").Text; !strings.Contains(s, tc.wantText) {
			t.Errorf("%s %s: faultstring %q lacks %q", tc.method, tc.target, s, tc.wantText)
		}
		if got := w.Header().Get("Retry-After"); (tc.wantCode == "429") != (got != "") {
			t.Errorf("%s %s: Retry-After %q", tc.method, tc.target, got)
		}
	}
}

// Magento owns its SOAP paths exactly as written, ahead of MANEX, which
// owns every other /api/ path in any case.
func TestMagentoSOAPRoutes(t *testing.T) {
	t.Parallel()
	g := newEnv(t, envOptions{}).handler.(*gateway)
	for _, tt := range []struct{ path, want string }{
		{"/api/soap/", "magento"}, {"/api/soap", "magento"},
		{"/api/v2_soap/", "magento"}, {"/api/v2_soap", "magento"},
		{"/api/v2_soap/wsi/", "magento"}, {"/api/v2_soap/wsi", "magento"},
		{"/index.php/api/soap/", "magento"}, {"/index.php/api/v2_soap", "magento"}, {"/index.php/api/v2_soap/wsi/", "magento"},
		{"/API/soap/", "manex"}, {"/api/SOAP/", "manex"}, {"/api/soap/x", "manex"}, {"/api/v2_soap/index/", "manex"},
		{"/api/soapy", "manex"}, {"/index.php/api/rest/", ""}, {"/index.php/", ""},
	} {
		if got, _ := g.route(tt.path); got != tt.want {
			t.Errorf("route(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
