// Package pgtest gives each test its own database on a real PostgreSQL
// server, cloned from a per-process template database so that migrations
// run once per test binary rather than once per test.
//
// The server comes from the TEST_DATABASE_URL environment variable; `make
// test` (abacusdev with-postgres) starts a throwaway server and sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding a connection string to any
// database of the test server (for example .../postgres). The user must be
// allowed to create databases.
const EnvVar = "TEST_DATABASE_URL"

// Names of databases created here start with these prefixes followed by the
// creation time in Unix seconds, so that databases left behind by a crashed
// test binary can be recognised and dropped later.
const (
	templatePrefix = "abacus_tmpl_"
	testPrefix     = "abacus_test_"
	staleAfter     = time.Hour
)

var (
	mu        sync.Mutex
	templates = map[string]*template{}
	sweepOnce sync.Once
)

type template struct {
	once sync.Once
	name string
	err  error
}

// NewDatabase creates a fresh database for t and returns its connection
// string; the database is dropped when t ends.
//
// The first call for a given name in this process creates a template
// database and runs setup against it (setup typically applies migrations);
// every call then clones that template with CREATE DATABASE ... TEMPLATE.
// PostgreSQL refuses to clone a database others are connected to, so setup
// must close every connection and pool it opened before it returns. As a
// safety net, connections to the template are disallowed and any left over
// are terminated once setup returns.
//
// NewDatabase fails t (it does not skip it) when TEST_DATABASE_URL is unset:
// a database test that silently does not run is worse than a failing one.
func NewDatabase(t testing.TB, name string, setup func(ctx context.Context, connString string) error) string {
	t.Helper()
	admin := os.Getenv(EnvVar)
	if admin == "" {
		t.Fatal("TEST_DATABASE_URL is not set; run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	sweepOnce.Do(func() { dropStale(ctx, admin) })

	mu.Lock()
	tmpl, ok := templates[name]
	if !ok {
		tmpl = &template{}
		templates[name] = tmpl
	}
	mu.Unlock()
	// Per-name Once rather than holding mu: tests using different templates
	// can build them in parallel, and callers of the same name wait here.
	tmpl.once.Do(func() { tmpl.name, tmpl.err = createTemplate(ctx, admin, name, setup) })
	if tmpl.err != nil {
		t.Fatalf("pgtest: template %q: %v", name, tmpl.err)
	}

	db := uniqueName(testPrefix, name)
	if err := exec(ctx, admin, "CREATE DATABASE "+ident(db)+" TEMPLATE "+ident(tmpl.name)); err != nil {
		t.Fatalf("pgtest: create database from template %s: %v", tmpl.name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE disconnects sessions the test did not close, such as a pool
		// whose Close is registered after this cleanup.
		if err := exec(ctx, admin, "DROP DATABASE IF EXISTS "+ident(db)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", db, err)
		}
	})
	cs, err := withDatabase(admin, db)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return cs
}

// createTemplate creates the template database for name and runs setup on
// it, dropping it again when setup fails.
func createTemplate(ctx context.Context, admin, name string, setup func(context.Context, string) error) (string, error) {
	db := uniqueName(templatePrefix, name)
	if err := exec(ctx, admin, "CREATE DATABASE "+ident(db)); err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	cs, err := withDatabase(admin, db)
	if err == nil && setup != nil {
		err = setup(ctx, cs)
		if err != nil {
			err = fmt.Errorf("setup: %w", err)
		}
	}
	if err == nil {
		err = exec(ctx, admin,
			"ALTER DATABASE "+ident(db)+" WITH ALLOW_CONNECTIONS false",
			// db is made of [a-z0-9_] only (uniqueName), so it is safe as a literal.
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+db+"'")
	}
	if err != nil {
		_ = exec(ctx, admin, "DROP DATABASE IF EXISTS "+ident(db)+" WITH (FORCE)")
		return "", err
	}
	return db, nil
}

// dropStale drops databases left behind by test binaries that crashed more
// than staleAfter ago. Errors are ignored: this is housekeeping, and a
// concurrent process may be dropping the same databases.
func dropStale(ctx context.Context, admin string) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'abacus\_tmpl\_%' OR datname LIKE 'abacus\_test\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-staleAfter).Unix()
	for _, n := range names {
		rest := strings.TrimPrefix(strings.TrimPrefix(n, templatePrefix), testPrefix)
		ts, _, _ := strings.Cut(rest, "_")
		if created, err := strconv.ParseInt(ts, 10, 64); err == nil && created < cutoff {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(n)+" WITH (FORCE)")
		}
	}
}

// uniqueName returns prefix + unix time + random suffix + a cleaned-up
// name: a valid unquoted identifier of at most 63 bytes (PostgreSQL's
// NAMEDATALEN-1), unique across concurrently running test binaries.
func uniqueName(prefix, name string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := fmt.Sprintf("%s%d_%s_", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
	var clean strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			clean.WriteRune(r)
		} else {
			clean.WriteByte('_')
		}
	}
	s += clean.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.TrimRight(s, "_")
}

// withDatabase returns connString pointing at database db instead. Both URL
// and keyword/value ("host=... dbname=...") forms are accepted.
func withDatabase(connString, db string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvVar, err)
		}
		u.Path = "/" + db
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword overrides an earlier one.
	return connString + " dbname=" + db, nil
}

// exec runs statements one by one on a short-lived connection. CREATE and
// DROP DATABASE cannot run inside a transaction, hence no batching.
func exec(ctx context.Context, connString string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", EnvVar, err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
