package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/abacus-ledger/abacus/dev/devstack"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// demoFile is the shape of DATA/demo-credentials.json, for scripts.
type demoFile struct {
	Gateway string            `json:"gateway"`
	Docs    string            `json:"docs"` // the gateway's API reference page
	GRPC    map[string]string `json:"grpc"`
	// ServiceToken is what internal callers present (authorization: Bearer
	// ...); make run makes a new one on each run.
	ServiceToken string `json:"service_token"`
	DatabaseURL  string `json:"database_url"`
	Tenant       string `json:"tenant"`
	Exigo        struct {
		Login    string `json:"login"`
		Company  string `json:"company"`
		Password string `json:"password"`
	} `json:"exigo"`
	Igsend struct {
		Live    keyPair `json:"live"`
		Sandbox keyPair `json:"sandbox"`
	} `json:"igsend"`
	Manex struct {
		APIKey string `json:"api_key"`
	} `json:"manex"`
	Magento struct {
		APIUser string `json:"api_user"`
		APIKey  string `json:"api_key"`
	} `json:"magento"`
}

type keyPair struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

type demoSetup struct {
	customerAddr, token, file, gateway, dbURL string
	grpc                                      map[string]string
	say                                       func(format string, a ...any)
}

const demoCompany = "demo"

// ensureDemo reuses the demo tenant and credentials of an earlier run when
// they still authenticate, and otherwise creates them (new credentials
// replace the old ones, which are revoked).
func ensureDemo(ctx context.Context, s demoSetup) (demoFile, error) {
	conn, err := grpc.NewClient(s.customerAddr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(s.token)...)...)
	if err != nil {
		return demoFile{}, err
	}
	defer conn.Close()
	admin := customerv1.NewTenantAdminServiceClient(conn)

	var d demoFile
	if raw, err := os.ReadFile(s.file); err == nil && json.Unmarshal(raw, &d) == nil && demoStillValid(ctx, admin, d) {
		s.say("reusing the demo tenant of the last run")
	} else if d, err = createDemoSaying(ctx, admin, s.say); err != nil {
		return demoFile{}, err
	}
	d.Gateway, d.Docs, d.GRPC = s.gateway, s.gateway+"/docs", s.grpc
	d.ServiceToken, d.DatabaseURL = s.token, s.dbURL
	raw, _ := json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(s.file, append(raw, '\n'), 0o600); err != nil {
		return demoFile{}, err
	}
	return d, nil
}

func demoStillValid(ctx context.Context, admin customerv1.TenantAdminServiceClient, d demoFile) bool {
	checks := []*customerv1.AuthenticateRequest{
		{Credential: &customerv1.AuthenticateRequest_Exigo{Exigo: &customerv1.ExigoCredential{Login: d.Exigo.Login, Company: d.Exigo.Company, Password: d.Exigo.Password}}},
		{Credential: &customerv1.AuthenticateRequest_Igsend{Igsend: &customerv1.IgsendCredential{PublicKey: d.Igsend.Live.Public, PrivateKey: d.Igsend.Live.Private}}},
		{Credential: &customerv1.AuthenticateRequest_Igsend{Igsend: &customerv1.IgsendCredential{PublicKey: d.Igsend.Sandbox.Public, PrivateKey: d.Igsend.Sandbox.Private}}},
		{Credential: &customerv1.AuthenticateRequest_Manex{Manex: &customerv1.ManexCredential{ApiKey: d.Manex.APIKey}}},
		{Credential: &customerv1.AuthenticateRequest_Magento{Magento: &customerv1.MagentoCredential{ApiUser: d.Magento.APIUser, ApiKey: d.Magento.APIKey}}},
	}
	for _, c := range checks {
		if _, err := admin.Authenticate(ctx, c); err != nil {
			return false
		}
	}
	return true
}

// createDemo creates the demo tenant and its credentials, saying so on
// stdout.
func createDemo(ctx context.Context, admin customerv1.TenantAdminServiceClient) (demoFile, error) {
	return createDemoSaying(ctx, admin, func(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) })
}

func createDemoSaying(ctx context.Context, admin customerv1.TenantAdminServiceClient, say func(string, ...any)) (demoFile, error) {
	tenant, err := findTenant(ctx, admin, demoCompany)
	if err != nil {
		return demoFile{}, err
	}
	if tenant == nil {
		resp, err := admin.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: "Demo Company", Company: demoCompany})
		if err != nil {
			return demoFile{}, fmt.Errorf("create tenant: %w", err)
		}
		tenant = resp.GetTenant()
		say("created demo tenant %s", tenant.GetTenantId())
	} else {
		old, err := admin.ListCredentials(ctx, &customerv1.ListCredentialsRequest{TenantId: tenant.GetTenantId()})
		if err != nil {
			return demoFile{}, err
		}
		for _, c := range old.GetCredentials() {
			if _, err := admin.RevokeCredential(ctx, &customerv1.RevokeCredentialRequest{CredentialId: c.GetCredentialId()}); err != nil {
				return demoFile{}, err
			}
		}
		say("demo tenant %s found; issuing new credentials", tenant.GetTenantId())
	}
	mk := func(kind customerv1.CredentialKind, identifier string) (*customerv1.CreateCredentialResponse, error) {
		if identifier != "" {
			identifier += "-" + randomHex(3) // identifiers are unique for ever
		}
		return admin.CreateCredential(ctx, &customerv1.CreateCredentialRequest{TenantId: tenant.GetTenantId(), Kind: kind, Identifier: identifier})
	}
	var d demoFile
	d.Tenant = tenant.GetTenantId()
	var errs []error
	if c, err := mk(customerv1.CredentialKind_CREDENTIAL_KIND_EXIGO, "demo-admin"); err == nil {
		d.Exigo.Login, d.Exigo.Company, d.Exigo.Password = c.GetCredential().GetIdentifier(), demoCompany, c.GetSecret()
	} else {
		errs = append(errs, err)
	}
	if c, err := mk(customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_LIVE, ""); err == nil {
		d.Igsend.Live = keyPair{c.GetCredential().GetIdentifier(), c.GetSecret()}
	} else {
		errs = append(errs, err)
	}
	if c, err := mk(customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_SANDBOX, ""); err == nil {
		d.Igsend.Sandbox = keyPair{c.GetCredential().GetIdentifier(), c.GetSecret()}
	} else {
		errs = append(errs, err)
	}
	if c, err := mk(customerv1.CredentialKind_CREDENTIAL_KIND_MANEX, ""); err == nil {
		d.Manex.APIKey = c.GetSecret()
	} else {
		errs = append(errs, err)
	}
	if c, err := mk(customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO, "demo-magento"); err == nil {
		d.Magento.APIUser, d.Magento.APIKey = c.GetCredential().GetIdentifier(), c.GetSecret()
	} else {
		errs = append(errs, err)
	}
	return d, errors.Join(errs...)
}

func findTenant(ctx context.Context, admin customerv1.TenantAdminServiceClient, company string) (*customerv1.Tenant, error) {
	token := ""
	for {
		resp, err := admin.ListTenants(ctx, &customerv1.ListTenantsRequest{PageSize: 500, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		for _, t := range resp.GetTenants() {
			if t.GetCompany() == company && !t.GetSandbox() {
				return t, nil
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil, nil
		}
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// printWelcome prints the banner of `make run`: where everything listens,
// the database, the service token, the demo credentials, and the first
// requests to try, which envCmd (`bin/abacusdev env`) makes pasteable.
func printWelcome(w io.Writer, d demoFile, procs []*devstack.Proc, file, envCmd string) {
	g := d.Gateway
	var b strings.Builder
	fmt.Fprintf(&b, "\nAbacus is running. Ctrl-C stops every process; the data stays in %s.\n\n", filepath.Dir(file))
	fmt.Fprintf(&b, "Endpoints\n")
	fmt.Fprintf(&b, "  gateway (HTTP)     %s   health %s/healthz\n", g, g)
	fmt.Fprintf(&b, "  API reference      %s   (OpenAPI %s/openapi.json)\n", d.Docs, g)
	for _, p := range procs {
		if p.Binary() != "gateway" {
			fmt.Fprintf(&b, "  %-8s (gRPC)    %s   metrics http://%s/metrics\n", p.Name, p.Addr, p.AdminAddr)
		} else {
			fmt.Fprintf(&b, "  gateway metrics    http://%s/metrics\n", p.AdminAddr)
		}
	}
	fmt.Fprintf(&b, "  database           %s\n", redactURL(d.DatabaseURL))
	fmt.Fprintf(&b, "  service token      %s   (new on each run; gRPC callers send it as authorization: Bearer TOKEN)\n", d.ServiceToken)
	fmt.Fprintf(&b, "\nDemo tenant %s (written to %s)\n", d.Tenant, file)
	fmt.Fprintf(&b, "  Exigo     login %s  company %s  password %s\n", d.Exigo.Login, d.Exigo.Company, d.Exigo.Password)
	fmt.Fprintf(&b, "  igsend    live    public %s  private %s\n", d.Igsend.Live.Public, d.Igsend.Live.Private)
	fmt.Fprintf(&b, "  igsend    sandbox public %s  private %s\n", d.Igsend.Sandbox.Public, d.Igsend.Sandbox.Private)
	fmt.Fprintf(&b, "  MANEX     API key %s\n", d.Manex.APIKey)
	fmt.Fprintf(&b, "  Magento   API user %s  API key %s\n", d.Magento.APIUser, d.Magento.APIKey)
	fmt.Fprintf(&b, "\nTry, in another terminal in this directory (README.md, \"Calling Abacus\", goes on from here:\n")
	fmt.Fprintf(&b, "create a customer, post to it, read it in every dialect and over gRPC)\n")
	fmt.Fprintf(&b, "  eval \"$(%s)\"   # the values above as shell variables: $GATEWAY, $TENANT, $MAGENTO_USER, ...\n", envCmd)
	fmt.Fprintf(&b, "  curl -s \"$GATEWAY/readyz\"\n")
	fmt.Fprintf(&b, "  curl -s -u \"$MAGENTO_USER:$MAGENTO_KEY\" \"$GATEWAY/v1/customers\"\n")
	fmt.Fprintf(&b, "  curl -s -u \"$MAGENTO_USER:wrong\" \"$GATEWAY/v1/customers\"   # refused: 401\n")
	fmt.Fprintf(&b, "  make grpcurl && .tools/bin/grpcurl -plaintext \"$CUSTOMER_GRPC\" list   # server reflection\n")
	fmt.Fprint(w, b.String())
}

// redactURL is raw with any password masked.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// startDemo is what `make run` does once the system is up: the demo tenant,
// DATA/demo-credentials.json and the banner on w. The README's test runs it
// too.
func startDemo(ctx context.Context, s *stack, data, envCmd string, w io.Writer, say func(string, ...any)) (demoFile, error) {
	file := filepath.Join(data, "demo-credentials.json")
	demo, err := ensureDemo(ctx, demoSetup{customerAddr: s.grpc["customer"], token: s.token, dbURL: s.dbURL,
		file: file, gateway: s.gateway, grpc: s.grpc, say: say})
	if err != nil {
		return demoFile{}, fmt.Errorf("demo tenant: %w", err)
	}
	printWelcome(w, demo, s.Procs(), file, envCmd)
	return demo, nil
}

// envCommand is the command that prints the demo of the data directory
// data as shell variables, as typed in the working directory:
// `bin/abacusdev env` under `make run`'s defaults.
func envCommand(binDir, data string) string {
	if abs, err := filepath.Abs(binDir); err == nil {
		binDir = abs
	}
	cmd := shellQuoteIfNeeded(filepath.Join(shortPath(binDir), "abacusdev")) + " env"
	if d := shortPath(data); d != ".data" {
		cmd += " --data " + shellQuoteIfNeeded(d)
	}
	return cmd
}
