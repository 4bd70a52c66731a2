package magento

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
	"github.com/abacus-ledger/abacus/gateway/internal/soapxml/soaptest"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
)

func TestCallArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, args        string
		customer, website string
		ok                bool
	}{
		{"scalar", `<args xsi:type="xsd:int">4</args>`, "4", "", true},
		{"array", `<args><item>4</item></args>`, "4", "", true},
		{"array with website", `<args><item>4</item><item>2</item></args>`, "4", "2", true},
		{"array with null website", `<args><item>4</item><item xsi:nil="true"/></args>`, "4", "", true},
		{"map", `<args><item><key>customerId</key><value>4</value></item><item><key>websiteId</key><value>2</value></item></args>`, "4", "2", true},
		{"map any case, any order", `<args><item><key>WEBSITEID</key><value>0</value></item><item><key>customerid</key><value>4</value></item></args>`, "4", "0", true},
		{"map null website", `<args><item><key>customerId</key><value>4</value></item><item><key>websiteId</key><value xsi:nil="true"/></item></args>`, "4", "", true},
		{"null", `<args xsi:nil="true"/>`, "", "", false},
		{"absent", ``, "", "", false},
		{"three items", `<args><item>4</item><item>2</item><item>1</item></args>`, "", "", false},
		{"null customer", `<args><item xsi:nil="true"/><item>2</item></args>`, "", "", false},
		{"map without customer", `<args><item><key>websiteId</key><value>2</value></item></args>`, "", "", false},
		{"map unknown key", `<args><item><key>customer_id</key><value>4</value></item></args>`, "", "", false},
		{"map key twice", `<args><item><key>customerId</key><value>4</value></item><item><key>CustomerId</key><value>4</value></item></args>`, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call := parseBody(t, `<m:call xmlns:m="urn:Magento">`+tc.args+`</m:call>`)
			customer, website, ok := callArgs(childNamed(call, "args"))
			if ok != tc.ok || ok && (customer != tc.customer || website != tc.website) {
				t.Errorf("callArgs = %q, %q, %v; want %q, %q, %v", customer, website, ok, tc.customer, tc.website, tc.ok)
			}
		})
	}
}

// rpc arguments are taken by name, else (a client without the WSDL) by
// position.
func TestRPCArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want []string
	}{
		{`<username>u</username><apiKey>k</apiKey>`, []string{"u", "k"}},
		{`<apiKey>k</apiKey><username>u</username>`, []string{"u", "k"}},
		{`<apiKey>k</apiKey>`, []string{"", "k"}},
		{`<param0>u</param0><param1>k</param1>`, []string{"u", "k"}},
		{`<param0>u</param0>`, []string{"u", ""}},
		{``, []string{"", ""}},
	} {
		args := rpcArgs(parseBody(t, `<m:login xmlns:m="urn:Magento">`+tc.body+`</m:login>`), "username", "apiKey")
		for i, want := range tc.want {
			if got := argument(args[i]); got != want {
				t.Errorf("%s: argument %d = %q, want %q", tc.body, i, got, want)
			}
		}
	}
}

func parseBody(t *testing.T, body string) *soapxml.Element {
	t.Helper()
	env, err := soapxml.Parse(strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><s:Body>` +
		body + `</s:Body></s:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	return env.Body
}

// fakeTenants opens the session "s" for mage/key; fakeHistory has one row
// for customer 4. Neither implements anything else.
type fakeTenants struct {
	customerv1.TenantAdminServiceClient
}

func (fakeTenants) Authenticate(_ context.Context, req *customerv1.AuthenticateRequest, _ ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	if req.GetMagentoSession().GetSessionId() != "s" {
		return nil, status.Error(codes.Unauthenticated, "unknown session")
	}
	return &customerv1.AuthenticateResponse{TenantId: "t"}, nil
}

func (fakeTenants) StartMagentoSession(_ context.Context, req *customerv1.StartMagentoSessionRequest, _ ...grpc.CallOption) (*customerv1.StartMagentoSessionResponse, error) {
	if req.GetCredential().GetApiUser() != "mage" || req.GetCredential().GetApiKey() != "key" {
		return nil, status.Error(codes.Unauthenticated, "bad credential")
	}
	return &customerv1.StartMagentoSessionResponse{SessionId: "s", TenantId: "t"}, nil
}

func (fakeTenants) EndMagentoSession(context.Context, *customerv1.EndMagentoSessionRequest, ...grpc.CallOption) (*customerv1.EndMagentoSessionResponse, error) {
	return &customerv1.EndMagentoSessionResponse{}, nil
}

type fakeHistory struct{ historyv1.HistoryServiceClient }

func (fakeHistory) ListHistory(_ context.Context, req *historyv1.ListHistoryRequest, _ ...grpc.CallOption) (*historyv1.ListHistoryResponse, error) {
	if req.GetCustomerId() != 4 {
		return nil, status.Error(codes.NotFound, "no such customer")
	}
	return &historyv1.ListHistoryResponse{Entries: []*historyv1.HistoryEntry{{HistoryId: 1, BalanceId: 1, UpdateTime: timestamppb.Now(),
		Action: 2, BalanceAmount: "5", BalanceDelta: "5", AdditionalInfo: "<&>", CustomerId: 4, Currency: "USD"}}}, nil
}

// fuzzSOAP fuzzes the endpoint at path from seeds (soaptest.FuzzEndpoint).
func fuzzSOAP(f *testing.F, path string, seeds ...string) {
	log := slog.New(slog.DiscardHandler)
	h := New(fakeHistory{}, auth.NewGuard(fakeTenants{}, auth.NewLimiter(1<<30, time.Second, nil), log), log, SOAPConfig{})
	soaptest.FuzzEndpoint(f, h, path, seeds...)
}

// rpcEnvelope is an rpc/encoded request as PHP frames it.
func rpcEnvelope(op, params string) string {
	return `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:Magento" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:ns2="http://xml.apache.org/xml-soap" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body>` +
		`<ns1:` + op + `>` + params + `</ns1:` + op + `></SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

func FuzzMagentoV1(f *testing.F) {
	call := `<sessionId xsi:type="xsd:string">s</sessionId><resourcePath xsi:type="xsd:string">storecredit.history</resourcePath>`
	fuzzSOAP(f, "/api/soap/",
		rpcEnvelope("login", `<username xsi:type="xsd:string">mage</username><apiKey xsi:type="xsd:string">key</apiKey>`),
		rpcEnvelope("call", call+`<args SOAP-ENC:arrayType="xsd:int[2]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:int">4</item><item xsi:type="xsd:int">2</item></args>`),
		rpcEnvelope("call", call+`<args xsi:type="ns2:Map"><item><key xsi:type="xsd:string">customerId</key><value xsi:type="xsd:int">4</value></item></args>`),
		rpcEnvelope("call", call+`<args xsi:type="xsd:string">4</args>`),
		rpcEnvelope("endSession", `<sessionId xsi:type="xsd:string">s</sessionId>`),
	)
}

func FuzzMagentoV2(f *testing.F) {
	fuzzSOAP(f, "/api/v2_soap/",
		rpcEnvelope("login", `<username>mage</username><apiKey>key</apiKey>`),
		rpcEnvelope("enterpriseCustomerbalanceHistory", `<sessionId>s</sessionId><customerId>4</customerId><websiteId xsi:nil="true"/>`),
		rpcEnvelope("endSession", `<sessionId>s</sessionId>`),
		rpcEnvelope("loginParam", `<username>mage</username><apiKey>key</apiKey>`),
		rpcEnvelope("enterpriseCustomerbalanceHistoryRequestParam", `<sessionId>s</sessionId><customerId>4</customerId><websiteId>0</websiteId>`),
		rpcEnvelope("endSessionParam", `<sessionId>s</sessionId>`),
	)
}
