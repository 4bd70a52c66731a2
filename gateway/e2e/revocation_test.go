package e2e

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/dev/devstack"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// addProc starts one more process of the shared stack, stopped when t ends.
func addProc(t *testing.T, name string, env ...string) *devstack.Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := sys.Add(ctx, name, env...)
	if p == nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(20 * time.Second)
		if t.Failed() {
			t.Logf("--- %s ---\n%s", p.LogPath, p.Log(1<<20))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// metric reads one unlabelled metric from a process's admin port.
func metric(t *testing.T, adminAddr, name string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+adminAddr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("%s has no metric %s", adminAddr, name)
	return 0
}

// awaitStream polls until the gateway's credential change stream is up:
// before, it caches nothing, and the tests below would prove nothing.
func awaitStream(t *testing.T, adminAddr string) {
	t.Helper()
	for metric(t, adminAddr, "abacus_gateway_credential_stream_connected") != 1 {
		select {
		case <-t.Context().Done():
			t.Fatal("the credential change stream never came up")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

const balancesPath = "/v1/customers/1/balances"

func refused(t *testing.T, gw string, h http.Header) bool {
	t.Helper()
	a := sendHeader(t, gw, "GET", balancesPath, h, "")
	if a.status >= 500 {
		t.Fatalf("%s: %d %s", gw, a.status, a.body)
	}
	return a.status == http.StatusUnauthorized
}

// Two gateways authenticate the same credentials, so both cache them; the
// credentials are revoked through the admin RPC, and the very next request
// through each gateway is refused. Fifty times, so a race would show.
func TestRevocationAcrossGateways(t *testing.T) {
	t.Parallel()
	second := addProc(t, "gateway")
	gws := []string{sys.gateway, "http://" + second.Addr}
	admins := []string{sys.Proc("gateway").AdminAddr, second.AdminAddr}
	for _, a := range admins {
		awaitStream(t, a)
	}
	hitsBefore := metric(t, second.AdminAddr, "abacus_gateway_auth_cache_hits_total")
	tc := newTenant(t)
	kinds := []customerv1.CredentialKind{customerv1.CredentialKind_CREDENTIAL_KIND_EXIGO,
		customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_LIVE, customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO}
	for i := range 50 {
		kind := kinds[i%len(kinds)]
		cr, err := sys.admin.CreateCredential(t.Context(), &customerv1.CreateCredentialRequest{TenantId: tc.id, Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		user := cr.GetCredential().GetIdentifier()
		if kind == customerv1.CredentialKind_CREDENTIAL_KIND_EXIGO {
			user += "@" + tc.company
		}
		h := basicHeader(user, cr.GetSecret())
		for _, gw := range gws {
			for range 2 { // the second answers from the cache
				if refused(t, gw, h) {
					t.Fatalf("credential %d (%v) refused by %s before its revocation", i, kind, gw)
				}
			}
		}
		if _, err := sys.admin.RevokeCredential(t.Context(), &customerv1.RevokeCredentialRequest{CredentialId: cr.GetCredential().GetCredentialId()}); err != nil {
			t.Fatal(err)
		}
		for _, gw := range gws {
			if !refused(t, gw, h) {
				t.Fatalf("credential %d (%v) revoked, yet %s let the next request through", i, kind, gw)
			}
		}
	}
	if hits := metric(t, second.AdminAddr, "abacus_gateway_auth_cache_hits_total") - hitsBefore; hits < 50 {
		t.Errorf("the second gateway answered %v authentications from its cache; want at least 50, or this test proves nothing", hits)
	}
}

var soapSessionID = regexp.MustCompile(`>([0-9a-f]{32})</`)

// magentoV2 posts one Magento SOAP v2 operation and returns the answer's
// body.
func magentoV2(t *testing.T, gw, op, inner string) string {
	t.Helper()
	_, body, err := httpDo(t.Context(), "POST", gw+"/api/v2_soap/", map[string]string{
		"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `"urn:Mage_Api_Model_Server_V2_HandlerAction"`,
	}, []byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:Magento"><soap:Body><m:`+op+`>`+
		inner+`</m:`+op+`></soap:Body></soap:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func sessionRefused(t *testing.T, gw, id string) bool {
	t.Helper()
	body := magentoV2(t, gw, "enterpriseCustomerbalanceHistory", "<sessionId>"+id+"</sessionId><customerId>1</customerId>")
	if strings.Contains(body, "temporarily unavailable") {
		t.Fatalf("%s: %s", gw, body)
	}
	return strings.Contains(body, "Session expired")
}

// A Magento SOAP session used through two gateways (so both cache it) and
// ended through one is refused by the other at once.
func TestMagentoSessionEndedAcrossGateways(t *testing.T) {
	t.Parallel()
	second := addProc(t, "gateway")
	gws := []string{sys.gateway, "http://" + second.Addr}
	awaitStream(t, sys.Proc("gateway").AdminAddr)
	awaitStream(t, second.AdminAddr)
	tc := newTenant(t)
	for i := range 10 {
		login := magentoV2(t, gws[i%2], "login", "<username>"+tc.magentoUser+"</username><apiKey>"+tc.magentoKey+"</apiKey>")
		m := soapSessionID.FindStringSubmatch(login)
		if m == nil {
			t.Fatalf("login: %s", login)
		}
		id := m[1]
		for _, gw := range gws {
			for range 2 {
				if sessionRefused(t, gw, id) {
					t.Fatalf("session %d refused by %s before it ended", i, gw)
				}
			}
		}
		if a := magentoV2(t, gws[i%2], "endSession", "<sessionId>"+id+"</sessionId>"); !strings.Contains(a, ">true<") {
			t.Fatalf("endSession: %s", a)
		}
		if other := gws[(i+1)%2]; !sessionRefused(t, other, id) {
			t.Fatalf("session %d ended through %s, yet %s let the next request through", i, gws[i%2], other)
		}
	}
}

// A gateway whose change stream is cut (its customer service replica
// stopped) trusts its cache no more: a credential revoked through another
// replica meanwhile is refused once its own replica is back.
func TestGatewayWithoutStreamRefusesRevoked(t *testing.T) {
	t.Parallel()
	replica := addProc(t, "customer")
	gw := addProc(t, "gateway", "ABACUS_CUSTOMER_ADDR="+replica.Addr)
	awaitStream(t, gw.AdminAddr)
	tc := newTenant(t)
	h := basicHeader(tc.magentoUser, tc.magentoKey)
	base := "http://" + gw.Addr
	for range 2 {
		if refused(t, base, h) {
			t.Fatal("refused before the revocation")
		}
	}
	replica.Stop(20 * time.Second)
	if _, err := sys.admin.RevokeCredential(t.Context(), &customerv1.RevokeCredentialRequest{CredentialId: tc.credentialIDs[customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO]}); err != nil {
		t.Fatal(err)
	}
	// Its replica down, the gateway can authenticate nothing: 503, where a
	// cache still trusted would have let the request through to the ledger.
	if a := sendHeader(t, base, "GET", balancesPath, h, ""); a.status != http.StatusServiceUnavailable {
		t.Fatalf("with its customer replica down the gateway answered %d %s; want 503", a.status, a.body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	awaitStream(t, gw.AdminAddr)
	if !refused(t, base, h) {
		t.Fatal("the gateway answered a revoked credential from a cache it lost the stream of")
	}
}
