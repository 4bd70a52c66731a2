package tenant_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

func newService(t *testing.T) *tenant.Service {
	t.Helper()
	return tenant.NewService(store.New(pgtest.MigratedPool(t, "customer", migrations.FS)), time.Hour)
}

func TestCreateTenantValidation(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	if _, err := svc.CreateTenant(t.Context(), "Acme", "acme"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tenantName, company string
		want                      error
	}{
		{"taken company", "Other", "acme", tenant.ErrAlreadyExists},
		{"empty name", "  ", "acme2", tenant.ErrInvalid},
		{"upper-case company", "X", "Acme", tenant.ErrInvalid},
		{"company with @", "X", "a@b", tenant.ErrInvalid},
		{"overlong name", strings.Repeat("n", 201), "acme3", tenant.ErrInvalid},
		{"invalid UTF-8", "\xff", "acme4", tenant.ErrInvalid},
		{"line feed in the name", "Acme\nInc", "acme5", tenant.ErrInvalid},
		{"right-to-left override in the name", "Acme\u202eInc", "acme6", tenant.ErrInvalid},
		{"byte order mark in the name", "\ufeffAcme", "acme7", tenant.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := svc.CreateTenant(t.Context(), tc.tenantName, tc.company); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAuthenticateEachKind(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := t.Context()
	live, err := svc.CreateTenant(ctx, "Acme", "acme")
	if err != nil {
		t.Fatal(err)
	}
	creds := map[int]tenant.NewCredential{}
	for _, k := range []int{tenant.KindExigo, tenant.KindIgsendLive, tenant.KindIgsendSandbox, tenant.KindManex, tenant.KindMagento} {
		nc, err := svc.CreateCredential(ctx, live.ID, k, "")
		if err != nil {
			t.Fatalf("kind %d: %v", k, err)
		}
		creds[k] = nc
	}
	if got := len(creds[tenant.KindManex].Secret); got != 10 {
		t.Errorf("MANEX key has %d characters, want 10", got)
	}
	sandbox := creds[tenant.KindIgsendSandbox].TenantID
	if sandbox == live.ID {
		t.Fatal("sandbox key belongs to the live tenant")
	}

	exigo, ig, sb, mx, mg := creds[tenant.KindExigo], creds[tenant.KindIgsendLive], creds[tenant.KindIgsendSandbox], creds[tenant.KindManex], creds[tenant.KindMagento]
	cases := []struct {
		name       string
		c          tenant.Credentials
		wantTenant string // "" = refused
	}{
		{"exigo", tenant.Credentials{Exigo: &tenant.ExigoCredentials{Login: exigo.Identifier, Company: "acme", Password: exigo.Secret}}, live.ID},
		{"exigo wrong password", tenant.Credentials{Exigo: &tenant.ExigoCredentials{Login: exigo.Identifier, Company: "acme", Password: exigo.Secret + "x"}}, ""},
		{"exigo wrong company", tenant.Credentials{Exigo: &tenant.ExigoCredentials{Login: exigo.Identifier, Company: "other", Password: exigo.Secret}}, ""},
		{"igsend live", tenant.Credentials{Igsend: &tenant.PairCredentials{User: ig.Identifier, Secret: ig.Secret}}, live.ID},
		{"igsend sandbox goes to the sandbox tenant", tenant.Credentials{Igsend: &tenant.PairCredentials{User: sb.Identifier, Secret: sb.Secret}}, sandbox},
		{"igsend public with the other pair's private", tenant.Credentials{Igsend: &tenant.PairCredentials{User: ig.Identifier, Secret: sb.Secret}}, ""},
		{"manex", tenant.Credentials{Manex: mx.Secret}, live.ID},
		{"manex other case", tenant.Credentials{Manex: strings.ToLower(mx.Secret) + "Q"}, ""},
		{"magento", tenant.Credentials{Magento: &tenant.PairCredentials{User: mg.Identifier, Secret: mg.Secret}}, live.ID},
		{"magento key as igsend", tenant.Credentials{Igsend: &tenant.PairCredentials{User: mg.Identifier, Secret: mg.Secret}}, ""},
		{"basic exigo", tenant.Credentials{Basic: &tenant.PairCredentials{User: exigo.Identifier + "@acme", Secret: exigo.Secret}}, live.ID},
		{"basic igsend", tenant.Credentials{Basic: &tenant.PairCredentials{User: ig.Identifier, Secret: ig.Secret}}, live.ID},
		{"basic magento", tenant.Credentials{Basic: &tenant.PairCredentials{User: mg.Identifier, Secret: mg.Secret}}, live.ID},
		{"basic manex key is not a Basic credential", tenant.Credentials{Basic: &tenant.PairCredentials{User: mx.Identifier, Secret: mx.Secret}}, ""},
		{"nothing", tenant.Credentials{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := svc.Authenticate(t.Context(), tc.c)
			if tc.wantTenant == "" {
				if !errors.Is(err, tenant.ErrUnauthenticated) {
					t.Errorf("err = %v, want ErrUnauthenticated", err)
				}
				return
			}
			if err != nil || p.TenantID != tc.wantTenant {
				t.Errorf("got %+v, %v; want tenant %s", p, err, tc.wantTenant)
			}
		})
	}

	// Revocation takes effect on the next call.
	if _, err := svc.RevokeCredential(ctx, mg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tenant.Credentials{Magento: &tenant.PairCredentials{User: mg.Identifier, Secret: mg.Secret}}); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Errorf("revoked credential: err = %v", err)
	}
	list, err := svc.ListCredentials(ctx, live.ID, false)
	if err != nil || len(list) != 4 {
		t.Errorf("active credentials = %d (%v), want 4 (sandbox key included, revoked one not)", len(list), err)
	}
}

// Every kind of credential is listed under a public identifier that shows
// nothing of its secret: Exigo's login, igsend's public key, Magento's API
// user, and for MANEX, whose key is all secret, a public id of its own. The
// listing shows the identifier that creation returned.
func TestCredentialIdentifiers(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := t.Context()
	live, err := svc.CreateTenant(ctx, "Acme", "acme")
	if err != nil {
		t.Fatal(err)
	}
	patterns := map[int]*regexp.Regexp{
		tenant.KindExigo:         regexp.MustCompile(`^api-[A-Za-z0-9]{10}$`),
		tenant.KindIgsendLive:    regexp.MustCompile(`^pk_live_[A-Za-z0-9]{24}$`),
		tenant.KindIgsendSandbox: regexp.MustCompile(`^pk_test_[A-Za-z0-9]{24}$`),
		tenant.KindManex:         regexp.MustCompile(`^mx_[A-Za-z0-9]{16}$`),
		tenant.KindMagento:       regexp.MustCompile(`^api-[A-Za-z0-9]{10}$`),
	}
	created := map[string]tenant.NewCredential{}
	for _, k := range []int{tenant.KindExigo, tenant.KindIgsendLive, tenant.KindIgsendSandbox, tenant.KindManex, tenant.KindManex, tenant.KindMagento} {
		nc, err := svc.CreateCredential(ctx, live.ID, k, "")
		if err != nil {
			t.Fatal(err)
		}
		if !patterns[k].MatchString(nc.Identifier) {
			t.Errorf("kind %d: identifier %q, want %s", k, nc.Identifier, patterns[k])
		}
		// The identifier is not the secret, nor a piece of it, nor it a
		// piece of the secret (four characters by chance: about 1 in a
		// million).
		if len(nc.Secret) < 10 || strings.Contains(nc.Identifier, nc.Secret[:4]) || strings.Contains(nc.Identifier, nc.Secret[len(nc.Secret)-4:]) {
			t.Errorf("kind %d: identifier %q shows part of the secret %q", k, nc.Identifier, nc.Secret)
		}
		if _, dup := created[nc.Identifier]; dup {
			t.Errorf("identifier %q given twice", nc.Identifier)
		}
		created[nc.Identifier] = nc
	}
	listed, err := svc.ListCredentials(ctx, live.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(created) {
		t.Fatalf("%d credentials listed, want %d", len(listed), len(created))
	}
	for _, c := range listed {
		nc, ok := created[c.Identifier]
		if !ok || nc.ID != c.ID || nc.Kind != c.Kind {
			t.Errorf("listed %+v, which creation did not return", c)
		}
	}
}

func TestCreateCredentialErrors(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := t.Context()
	live, err := svc.CreateTenant(ctx, "Acme", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateCredential(ctx, live.ID, tenant.KindExigo, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tenantID, identifier string
		kind                       int
		want                       error
	}{
		{"same exigo login twice", live.ID, "admin", tenant.KindExigo, tenant.ErrAlreadyExists},
		{"unknown tenant", "00000000-0000-0000-0000-000000000000", "", tenant.KindManex, tenant.ErrNotFound},
		{"malformed tenant", "nope", "", tenant.KindManex, tenant.ErrNotFound},
		{"bad kind", live.ID, "", 9, tenant.ErrInvalid},
		{"bad identifier", live.ID, "a b", tenant.KindMagento, tenant.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := svc.CreateCredential(t.Context(), tc.tenantID, tc.kind, tc.identifier); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// Concurrent first uses of igsend sandbox keys create one sandbox twin.
func TestSandboxTwinCreatedOnce(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	live, err := svc.CreateTenant(t.Context(), "Acme", "acme")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	owners := make([]string, 8)
	errs := make([]error, 8)
	for i := range owners {
		wg.Go(func() {
			nc, err := svc.CreateCredential(t.Context(), live.ID, tenant.KindIgsendSandbox, "")
			owners[i], errs[i] = nc.TenantID, err
		})
	}
	wg.Wait()
	for i := range owners {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if owners[i] != owners[0] {
			t.Errorf("sandbox keys landed in two tenants: %s and %s", owners[0], owners[i])
		}
	}
}
