package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// tenantCreds is a tenant with one credential of each kind.
type tenantCreds struct {
	id, company                   string
	exigoLogin, exigoPassword     string
	igsendPublic, igsendPrivate   string
	sandboxPublic, sandboxPrivate string
	manexKey                      string
	magentoUser, magentoKey       string
	credentialIDs                 map[customerv1.CredentialKind]string
}

func newTenant(t *testing.T) tenantCreds {
	t.Helper()
	ctx := t.Context()
	company := "t-" + randomHex(5)
	tr, err := sys.admin.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: "Tenant " + company, Company: company})
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	tc := tenantCreds{id: tr.GetTenant().GetTenantId(), company: company, credentialIDs: map[customerv1.CredentialKind]string{}}
	for _, k := range []customerv1.CredentialKind{
		customerv1.CredentialKind_CREDENTIAL_KIND_EXIGO, customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_LIVE,
		customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_SANDBOX, customerv1.CredentialKind_CREDENTIAL_KIND_MANEX,
		customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO,
	} {
		cr, err := sys.admin.CreateCredential(ctx, &customerv1.CreateCredentialRequest{TenantId: tc.id, Kind: k})
		if err != nil {
			t.Fatalf("create credential %v: %v", k, err)
		}
		id, secret := cr.GetCredential().GetIdentifier(), cr.GetSecret()
		tc.credentialIDs[k] = cr.GetCredential().GetCredentialId()
		switch k {
		case customerv1.CredentialKind_CREDENTIAL_KIND_EXIGO:
			tc.exigoLogin, tc.exigoPassword = id, secret
		case customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_LIVE:
			tc.igsendPublic, tc.igsendPrivate = id, secret
		case customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_SANDBOX:
			tc.sandboxPublic, tc.sandboxPrivate = id, secret
		case customerv1.CredentialKind_CREDENTIAL_KIND_MANEX:
			tc.manexKey = secret
		case customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO:
			tc.magentoUser, tc.magentoKey = id, secret
		}
	}
	return tc
}

// Every service refuses a call without the service token, without a tenant,
// or with an unknown tenant; with a known tenant the call gets through to
// the handler.
func TestServicesRefuseCallsWithoutTenant(t *testing.T) {
	t.Parallel()
	known := newTenant(t)
	calls := map[string]func(ctx context.Context, conn *grpc.ClientConn) error{
		"customer": func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := customerv1.NewCustomerServiceClient(conn).GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: 1})
			return err
		},
		"ledger": func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := ledgerv1.NewLedgerServiceClient(conn).GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 1})
			return err
		},
		"history": func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := historyv1.NewHistoryServiceClient(conn).GetLag(ctx, &historyv1.GetLagRequest{})
			return err
		},
	}
	cases := []struct {
		name string
		md   []string
		want codes.Code
	}{
		{"no metadata", nil, codes.Unauthenticated},
		{"tenant without token", []string{"x-abacus-tenant", known.id}, codes.Unauthenticated},
		{"wrong token", []string{"authorization", "Bearer nope", "x-abacus-tenant", known.id}, codes.Unauthenticated},
		{"token without tenant", []string{"authorization", "Bearer " + sys.token}, codes.Unauthenticated},
		{"unknown tenant", []string{"authorization", "Bearer " + sys.token, "x-abacus-tenant", "6f1c1f4e-9a57-4c43-8d0e-000000000000"}, codes.PermissionDenied},
		{"malformed tenant", []string{"authorization", "Bearer " + sys.token, "x-abacus-tenant", "' OR 1=1 --"}, codes.PermissionDenied},
	}
	for svc, do := range calls {
		for _, tc := range cases {
			t.Run(svc+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				if tc.md != nil {
					ctx = metadata.AppendToOutgoingContext(ctx, tc.md...)
				}
				if got := status.Code(do(ctx, sys.conns[svc])); got != tc.want {
					t.Errorf("code = %v, want %v", got, tc.want)
				}
			})
		}
		t.Run(svc+"/known tenant", func(t *testing.T) {
			t.Parallel()
			ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+sys.token, "x-abacus-tenant", known.id)
			switch got := status.Code(do(ctx, sys.conns[svc])); got {
			case codes.Unauthenticated, codes.PermissionDenied, codes.Unavailable, codes.Internal:
				t.Errorf("known tenant refused: %v", got)
			}
		})
	}
}

// authCase is one dialect request with a right and a wrong credential.
type authCase struct {
	name        string
	method      string
	path        string
	good, bad   map[string]string
	badPath     string // MANEX: the key is in the path
	wantBadCode int
	// badShape checks the refusal is in the dialect's own shape.
	badShape func(t *testing.T, body any)
}

func dialectCases(tc tenantCreds) []authCase {
	exigoUser := tc.exigoLogin + "@" + tc.company
	return []authCase{
		{
			name: "exigo", method: "GET", path: "/3.0/customers/balances?customerID=1",
			good: basicAuth(exigoUser, tc.exigoPassword), bad: basicAuth(exigoUser, tc.exigoPassword+"x"),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "result", "status") != "Failure" || field(body, "result", "transactionKey") == nil {
					t.Errorf("exigo refusal shape: %v", body)
				}
			},
		},
		{
			name: "igsend", method: "GET", path: "/services/clientbalance/?ClientID=1",
			good: basicAuth(tc.igsendPublic, tc.igsendPrivate), bad: basicAuth(tc.igsendPublic, "wrong"),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "coreRes", "status") != float64(2) || field(body, "tableRes") == nil {
					t.Errorf("igsend refusal shape: %v", body)
				}
			},
		},
		{
			name: "igsend sandbox", method: "GET", path: "/services/clientbalance?ClientID=1",
			good: basicAuth(tc.sandboxPublic, tc.sandboxPrivate), bad: basicAuth(tc.sandboxPublic, tc.igsendPrivate),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "coreRes", "status") != float64(2) {
					t.Errorf("igsend refusal shape: %v", body)
				}
			},
		},
		{
			name: "manex", method: "GET", path: "/API/Customer/Get/" + tc.manexKey + "?CustNumOrName=Nobody",
			badPath:     "/API/Customer/Get/" + strings.ToUpper(tc.manexKey[:1]) + strings.ToLower(tc.manexKey[1:]) + "x?CustNumOrName=Nobody",
			wantBadCode: 200,
			badShape: func(t *testing.T, body any) {
				if field(body, "Code") != float64(403) || field(body, "Message") != "Invalid API Key." || field(body, "IsValidUser") != false || field(body, "$id") != "1" {
					t.Errorf("manex refusal shape: %v", body)
				}
			},
		},
		{
			name: "magento", method: "GET", path: "/api/rest/customers/1/storecredit/history",
			good: basicAuth(tc.magentoUser, tc.magentoKey), bad: basicAuth(tc.magentoUser, tc.magentoKey[1:]),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "messages", "error", 0, "code") != float64(401) {
					t.Errorf("magento refusal shape: %v", body)
				}
			},
		},
		{
			name: "native with an Exigo credential", method: "GET", path: "/v1/customers",
			good: basicAuth(exigoUser, tc.exigoPassword), bad: basicAuth(exigoUser, ""),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "code") != float64(16) {
					t.Errorf("native refusal shape: %v", body)
				}
			},
		},
		{
			name: "native with a Magento credential", method: "GET", path: "/v1/customers",
			good: basicAuth(tc.magentoUser, tc.magentoKey), bad: basicAuth(tc.magentoUser, "x"),
			wantBadCode: 401,
			badShape: func(t *testing.T, body any) {
				if field(body, "code") != float64(16) {
					t.Errorf("native refusal shape: %v", body)
				}
			},
		},
	}
}

// isAuthRefusal reports whether an answer is the dialect's refusal.
func isAuthRefusal(code int, body any) bool {
	return code == 401 || code == 429 || field(body, "Message") == "Invalid API Key."
}

// The credentials of each kind authenticate at the gateway, and a wrong
// secret is refused in the dialect's own error shape.
func TestDialectCredentials(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	for _, c := range dialectCases(tc) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, body := call(t, c.method, c.path, c.good, nil)
			if isAuthRefusal(code, body) {
				t.Errorf("right credential refused: %d %v", code, body)
			}
			badPath := c.path
			if c.badPath != "" {
				badPath = c.badPath
			}
			code, body = call(t, c.method, badPath, c.bad, nil)
			if code != c.wantBadCode {
				t.Errorf("wrong credential: status %d, want %d (%v)", code, c.wantBadCode, body)
			}
			c.badShape(t, body)
		})
	}
}

// A revoked credential stops working at once: the very next request fails.
func TestRevokedCredentialStopsAtOnce(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	for _, c := range dialectCases(tc) {
		code, body := call(t, c.method, c.path, c.good, nil)
		if isAuthRefusal(code, body) {
			t.Fatalf("%s: refused before revocation: %d %v", c.name, code, body)
		}
	}
	for _, id := range tc.credentialIDs {
		if _, err := sys.admin.RevokeCredential(t.Context(), &customerv1.RevokeCredentialRequest{CredentialId: id}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range dialectCases(tc) {
		code, body := call(t, c.method, c.path, c.good, nil)
		if !isAuthRefusal(code, body) {
			t.Errorf("%s: revoked credential still works: %d %v", c.name, code, body)
		}
	}
}

// No secret is stored in plaintext: no row of the customer schema contains
// any secret that was handed out, in any column.
func TestNoPlaintextSecretStored(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	secrets := []string{tc.exigoPassword, tc.igsendPrivate, tc.sandboxPrivate, tc.manexKey, tc.magentoKey}
	conn, err := pgx.Connect(t.Context(), sys.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = 'customer'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		// Each row as text, and each bytea column hex-decoded as text too.
		rows, err := conn.Query(t.Context(), `SELECT t::text FROM customer.`+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range texts {
			for _, s := range secrets {
				if strings.Contains(row, s) || strings.Contains(row, hexOf(s)) {
					t.Errorf("customer.%s stores a secret in plaintext: %s", table, row)
				}
			}
		}
	}
}

func hexOf(s string) string { return fmt.Sprintf("%x", s) }
