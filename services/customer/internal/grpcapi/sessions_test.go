package grpcapi

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/pglisten"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

const serviceToken = "test-service-token"

// serveTenantAdmin serves TenantAdminService as cmd/customer does
// (interceptors and the change listener included), on a pool of its own
// over the database at url, and returns a client of it: one
// customer-service replica.
func serveTenantAdmin(t *testing.T, url string) customerv1.TenantAdminServiceClient {
	t.Helper()
	return serveTenantAdminTrusting(t, url, tenant.DefaultTrust)
}

// serveTenantAdminTrusting is serveTenantAdmin with watchers trusting their
// caches for trust after each ack.
func serveTenantAdminTrusting(t *testing.T, url string, trust time.Duration) customerv1.TenantAdminServiceClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pool, err := database.Open(ctx, database.Config{URL: url}, "test")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	tenants := tenant.NewService(store.New(pool), time.Hour)
	tenants.CacheCredentials(tenant.DefaultCacheFor, trust)
	addr := make(chan net.Addr, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		w := tenants.Watchers()
		pglisten.Run(ctx, pool, store.ChangesChannel, "test listener", log, pglisten.Handler{
			Listening: w.Nudge, Notified: func(string) { w.Nudge() },
		})
	})
	wg.Go(func() {
		err := grpcserver.Run(ctx, grpcserver.Options{
			Name: "customer-test", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second,
			Log: log, Policy: tenancy.NewPolicy(serviceToken, tenants, TenantFree),
			Ready:    func(ctx context.Context) error { return database.Ping(ctx, pool) },
			Register: func(s *grpc.Server) { customerv1.RegisterTenantAdminServiceServer(s, NewTenantAdmin(tenants, log)) },
			Started:  func(g, _ net.Addr) { addr <- g },
		})
		if err != nil {
			t.Errorf("serve: %v", err)
			close(addr)
		}
	})
	a, ok := <-addr
	if !ok {
		t.FailNow()
	}
	conn, err := rpcclient.Dial(a.String(), serviceToken, rpcclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		wg.Wait()
		pool.Close()
	})
	return customerv1.NewTenantAdminServiceClient(conn)
}

func bySession(id string) *customerv1.AuthenticateRequest {
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_MagentoSession{
		MagentoSession: &customerv1.MagentoSession{SessionId: id},
	}}
}

// TestMagentoSessionAcrossReplicas: a session opened through one replica
// authenticates through another sharing the database, for its own tenant,
// until it is ended through either or its credential is revoked; the
// refusals are UNAUTHENTICATED, a malformed id to end INVALID_ARGUMENT.
func TestMagentoSessionAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.NewDatabase(t, "customer", migrateCustomerSchema)
	one, two := serveTenantAdmin(t, url), serveTenantAdmin(t, url)

	type magento struct{ tenant, credential, user, key string }
	newMagento := func(company string) magento {
		t.Helper()
		tn, err := one.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: company, Company: company})
		if err != nil {
			t.Fatal(err)
		}
		c, err := one.CreateCredential(ctx, &customerv1.CreateCredentialRequest{
			TenantId: tn.GetTenant().GetTenantId(), Kind: customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO,
		})
		if err != nil {
			t.Fatal(err)
		}
		return magento{tn.GetTenant().GetTenantId(), c.GetCredential().GetCredentialId(), c.GetCredential().GetIdentifier(), c.GetSecret()}
	}
	login := func(m magento, key string) (*customerv1.StartMagentoSessionResponse, error) {
		return one.StartMagentoSession(ctx, &customerv1.StartMagentoSessionRequest{
			Credential: &customerv1.MagentoCredential{ApiUser: m.user, ApiKey: key},
		})
	}
	a, b := newMagento("acme"), newMagento("globex")

	if _, err := login(a, a.key+"x"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("login with a wrong key: %v, want UNAUTHENTICATED", err)
	}
	sa, err := login(a, a.key)
	if err != nil {
		t.Fatal(err)
	}
	if sa.GetTenantId() != a.tenant || sa.GetCredentialId() != a.credential {
		t.Errorf("login answered %v, want tenant %s credential %s", sa, a.tenant, a.credential)
	}
	sb, err := login(b, b.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		session string
		want    magento
	}{{sa.GetSessionId(), a}, {sb.GetSessionId(), b}} {
		for name, replica := range map[string]customerv1.TenantAdminServiceClient{"one": one, "two": two} {
			got, err := replica.Authenticate(ctx, bySession(tc.session))
			if err != nil {
				t.Fatalf("replica %s: %v", name, err)
			}
			if got.GetTenantId() != tc.want.tenant || got.GetCredentialId() != tc.want.credential ||
				got.GetKind() != customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO {
				t.Errorf("replica %s resolved session to %v, want tenant %s credential %s", name, got, tc.want.tenant, tc.want.credential)
			}
		}
	}

	for range 2 { // ending is idempotent
		if _, err := two.EndMagentoSession(ctx, &customerv1.EndMagentoSessionRequest{SessionId: sa.GetSessionId()}); err != nil {
			t.Fatalf("end session: %v", err)
		}
	}
	if _, err := one.Authenticate(ctx, bySession(sa.GetSessionId())); status.Code(err) != codes.Unauthenticated {
		t.Errorf("ended session on the other replica: %v, want UNAUTHENTICATED", err)
	}

	if _, err := two.RevokeCredential(ctx, &customerv1.RevokeCredentialRequest{CredentialId: b.credential}); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Authenticate(ctx, bySession(sb.GetSessionId())); status.Code(err) != codes.Unauthenticated {
		t.Errorf("session of a revoked credential: %v, want UNAUTHENTICATED", err)
	}
	if _, err := login(b, b.key); status.Code(err) != codes.Unauthenticated {
		t.Errorf("login with a revoked credential: %v, want UNAUTHENTICATED", err)
	}

	for _, id := range []string{"", "abc", sa.GetSessionId() + "0", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcdez"} {
		if _, err := one.Authenticate(ctx, bySession(id)); status.Code(err) != codes.Unauthenticated {
			t.Errorf("authenticate session %q: %v, want UNAUTHENTICATED", id, err)
		}
		if _, err := one.EndMagentoSession(ctx, &customerv1.EndMagentoSessionRequest{SessionId: id}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("end session %q: %v, want INVALID_ARGUMENT", id, err)
		}
	}
}
