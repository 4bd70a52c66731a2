package pgtest

import (
	"context"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/abacus-ledger/abacus/services/platform/database"
)

// MigrateStepwise applies the migrations of schema one version at a time
// on a fresh database of t's own and, after each version, runs that
// version's fill, which writes data as the code of that version would: so
// every migration runs on a database holding the data of the versions
// before it. fill must name every version of migrations (nil for a
// version that brings nothing to fill), so that a new migration cannot
// go untested. It returns a pool on the fully migrated database, where
// the test checks that the data survived.
func MigrateStepwise(t testing.TB, schema string, migrations fs.FS, fill map[int64]func(ctx context.Context, pool *pgxpool.Pool) error) *pgxpool.Pool {
	t.Helper()
	ctx := t.Context()
	pool, err := database.Open(ctx, database.Config{URL: NewDatabase(t, "steps_"+schema, nil), MaxConns: 4}, "pgtest")
	if err != nil {
		t.Fatalf("open test pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations,
		goose.WithTableName(schema+".goose_db_version"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	versions := map[int64]bool{}
	for _, src := range p.ListSources() {
		v := src.Version
		versions[v] = true
		f, ok := fill[v]
		if !ok {
			t.Fatalf("migration %d (%s) has no fill: add one that writes data as version %d would, or nil", v, src.Path, v)
		}
		if _, err := p.UpTo(ctx, v); err != nil {
			t.Fatalf("migrate %s to %d on the data of the versions before: %v", schema, v, err)
		}
		if f == nil {
			continue
		}
		if err := f(ctx, pool); err != nil {
			t.Fatalf("fill %s at version %d: %v", schema, v, err)
		}
	}
	for v := range fill {
		if !versions[v] {
			t.Fatalf("fill names version %d, which %s's migrations lack", v, schema)
		}
	}
	return pool
}
