package tenant_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

const sessionTTL = time.Hour

// sessionFixture is a service on a fresh database with two tenants, each
// with a Magento credential; pool lets tests age sessions with SQL.
type sessionFixture struct {
	svc    *tenant.Service
	pool   *pgxpool.Pool
	a, b   tenant.NewCredential
	aLogin tenant.PairCredentials
}

func newSessionFixture(t *testing.T) sessionFixture {
	t.Helper()
	f := sessionFixture{pool: pgtest.MigratedPool(t, "customer", migrations.FS)}
	f.svc = tenant.NewService(store.New(f.pool), sessionTTL)
	f.a, f.b = f.magentoCredential(t, "acme"), f.magentoCredential(t, "globex")
	f.aLogin = tenant.PairCredentials{User: f.a.Identifier, Secret: f.a.Secret}
	return f
}

func (f sessionFixture) magentoCredential(t *testing.T, company string) tenant.NewCredential {
	t.Helper()
	live, err := f.svc.CreateTenant(t.Context(), company, company)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.CreateCredential(t.Context(), live.ID, tenant.KindMagento, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f sessionFixture) login(t *testing.T, c tenant.PairCredentials) string {
	t.Helper()
	m, err := f.svc.StartMagentoSession(t.Context(), c)
	if err != nil {
		t.Fatalf("login %s: %v", c.User, err)
	}
	return m.ID
}

// resolve authenticates by session; the zero Principal is a refused
// session. CacheFor is left out: TestSessionCacheFor tests it.
func (f sessionFixture) resolve(t *testing.T, id string) tenant.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(t.Context(), tenant.Credentials{MagentoSession: id})
	if err != nil && !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatalf("authenticate session: %v", err)
	}
	p.CacheFor = 0
	return p
}

// idle sets every session's last use to ago before now.
func (f sessionFixture) idle(t *testing.T, ago time.Duration) {
	t.Helper()
	if _, err := f.pool.Exec(t.Context(), `UPDATE customer.magento_sessions
		SET last_use_time = now() - $1::bigint * interval '1 microsecond'`, ago.Microseconds()); err != nil {
		t.Fatal(err)
	}
}

func (f sessionFixture) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM customer.magento_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var sessionIDForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestMagentoSessionLogin(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t)
	m, err := f.svc.StartMagentoSession(t.Context(), f.aLogin)
	if err != nil {
		t.Fatal(err)
	}
	if !sessionIDForm.MatchString(m.ID) {
		t.Errorf("session id %q is not 32 lowercase hex characters", m.ID)
	}
	want := tenant.Principal{TenantID: f.a.TenantID, CredentialID: f.a.ID, Kind: tenant.KindMagento, CacheFor: tenant.DefaultCacheFor}
	if m.Principal != want {
		t.Errorf("login principal %+v, want %+v", m.Principal, want)
	}
	if other := f.login(t, f.aLogin); other == m.ID {
		t.Error("two logins got the same session id")
	}
	var stored int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM customer.magento_sessions
		WHERE session_hash = sha256(convert_to($1, 'UTF8'))`, m.ID).Scan(&stored); err != nil || stored != 1 {
		t.Errorf("%d rows hold the session's hash (%v), want 1", stored, err)
	}
	var plain int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM customer.magento_sessions
		WHERE encode(session_hash, 'hex') = $1`, m.ID).Scan(&plain); err != nil || plain != 0 {
		t.Errorf("the session id is stored as it is (%d rows, %v)", plain, err)
	}

	revoked := f.magentoCredential(t, "initech")
	if _, err := f.svc.RevokeCredential(t.Context(), revoked.ID); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]tenant.PairCredentials{
		"wrong key":          {User: f.a.Identifier, Secret: f.a.Secret + "x"},
		"another's key":      {User: f.a.Identifier, Secret: f.b.Secret},
		"unknown user":       {User: "nobody", Secret: f.a.Secret},
		"empty":              {},
		"revoked credential": {User: revoked.Identifier, Secret: revoked.Secret},
	} {
		if _, err := f.svc.StartMagentoSession(t.Context(), c); !errors.Is(err, tenant.ErrUnauthenticated) {
			t.Errorf("%s: %v, want ErrUnauthenticated", name, err)
		}
	}
	if n := f.count(t); n != 2 {
		t.Errorf("%d sessions stored, want the 2 good logins'", n)
	}
}

// TestMagentoSessionEnds: a session resolves to its own tenant until it is
// ended; ending it again, or ending one never started, succeeds.
func TestMagentoSessionEnds(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t)
	a := f.login(t, f.aLogin)
	b := f.login(t, tenant.PairCredentials{User: f.b.Identifier, Secret: f.b.Secret})
	wantA := tenant.Principal{TenantID: f.a.TenantID, CredentialID: f.a.ID, Kind: tenant.KindMagento}
	wantB := tenant.Principal{TenantID: f.b.TenantID, CredentialID: f.b.ID, Kind: tenant.KindMagento}
	if p := f.resolve(t, a); p != wantA {
		t.Errorf("session of a resolves to %+v, want %+v", p, wantA)
	}
	if p := f.resolve(t, b); p != wantB {
		t.Errorf("session of b resolves to %+v, want %+v", p, wantB)
	}
	for range 2 {
		if err := f.svc.EndMagentoSession(t.Context(), a); err != nil {
			t.Fatalf("end session: %v", err)
		}
		if p := f.resolve(t, a); p != (tenant.Principal{}) {
			t.Errorf("ended session resolves to %+v", p)
		}
	}
	if err := f.svc.EndMagentoSession(t.Context(), "0123456789abcdef0123456789abcdef"); err != nil {
		t.Errorf("end an unknown session: %v", err)
	}
	if p := f.resolve(t, b); p != wantB {
		t.Errorf("ending a's session ended b's: %+v", p)
	}
}

// TestMagentoSessionRevoke: revoking a credential ends its sessions (their
// rows go in the same transaction) and no other credential's.
func TestMagentoSessionRevoke(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t)
	second, err := f.svc.CreateCredential(t.Context(), f.a.TenantID, tenant.KindMagento, "")
	if err != nil {
		t.Fatal(err)
	}
	revoked := []string{f.login(t, f.aLogin), f.login(t, f.aLogin)}
	kept := f.login(t, tenant.PairCredentials{User: second.Identifier, Secret: second.Secret})
	if _, err := f.svc.RevokeCredential(t.Context(), f.a.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range revoked {
		if p := f.resolve(t, id); p != (tenant.Principal{}) {
			t.Errorf("session of a revoked credential resolves to %+v", p)
		}
	}
	if n := f.count(t); n != 1 {
		t.Errorf("%d sessions left, want only the other credential's", n)
	}
	if p := f.resolve(t, kept); p.CredentialID != second.ID {
		t.Errorf("session of the unrevoked credential resolves to %+v", p)
	}
}

// TestMagentoSessionExpiry ages sessions with SQL instead of waiting: idle
// past the TTL fails at once and the janitor deletes it; a use restarts the
// idle time, but only once the last one is a sixtieth of the TTL old.
func TestMagentoSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t)
	id := f.login(t, f.aLogin)
	lastUse := func() time.Time {
		t.Helper()
		var at time.Time
		if err := f.pool.QueryRow(t.Context(), `SELECT last_use_time FROM customer.magento_sessions`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}

	fresh := lastUse()
	if f.resolve(t, id).TenantID != f.a.TenantID {
		t.Fatal("a fresh session does not resolve")
	}
	if got := lastUse(); !got.Equal(fresh) {
		t.Errorf("a use within a sixtieth of the TTL wrote last_use_time (%v → %v)", fresh, got)
	}

	f.idle(t, sessionTTL-time.Minute)
	stale := lastUse()
	if f.resolve(t, id).TenantID != f.a.TenantID {
		t.Fatal("a session idle for less than the TTL does not resolve")
	}
	if got := lastUse(); !got.After(stale.Add(sessionTTL / 2)) {
		t.Errorf("a use after %v idle left last_use_time at %v (was %v)", sessionTTL-time.Minute, got, stale)
	}

	f.idle(t, sessionTTL+time.Second)
	if p := f.resolve(t, id); p != (tenant.Principal{}) {
		t.Errorf("a session idle past the TTL resolves to %+v", p)
	}
	live := f.login(t, f.aLogin)
	n, err := f.svc.DeleteExpiredMagentoSessions(t.Context())
	if err != nil || n != 1 {
		t.Errorf("janitor deleted %d (%v), want the 1 expired session", n, err)
	}
	if f.count(t) != 1 || f.resolve(t, live).TenantID != f.a.TenantID {
		t.Error("the janitor touched a live session")
	}
}

// TestMagentoSessionMalformed: ids that cannot be session ids are refused
// before the database is asked: the service's pool is closed, so any query
// would fail with another error.
func TestMagentoSessionMalformed(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, "customer", migrations.FS)
	pool.Close()
	svc := tenant.NewService(store.New(pool), sessionTTL)
	for name, id := range map[string]string{
		"short":      "0123456789abcdef",
		"long":       "0123456789abcdef0123456789abcdef0",
		"upper-case": "0123456789ABCDEF0123456789ABCDEF",
		"non-hex":    "0123456789abcdef0123456789abcdeg",
		"multibyte":  "0123456789abcdef0123456789abcdé",
	} {
		if _, err := svc.Authenticate(t.Context(), tenant.Credentials{MagentoSession: id}); !errors.Is(err, tenant.ErrUnauthenticated) {
			t.Errorf("authenticate %s id: %v, want ErrUnauthenticated", name, err)
		}
		if err := svc.EndMagentoSession(t.Context(), id); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("end %s id: %v, want ErrInvalid", name, err)
		}
	}
	// The same calls with a well-formed id reach the (closed) database.
	const wellFormed = "0123456789abcdef0123456789abcdef"
	if _, err := svc.Authenticate(t.Context(), tenant.Credentials{MagentoSession: wellFormed}); err == nil || errors.Is(err, tenant.ErrUnauthenticated) {
		t.Errorf("authenticate a well-formed id on a closed pool: %v, want a database error", err)
	}
	if err := svc.EndMagentoSession(t.Context(), wellFormed); err == nil {
		t.Error("end a well-formed id on a closed pool succeeded")
	}
}
