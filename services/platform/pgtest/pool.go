package pgtest

import (
	"context"
	"io/fs"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/platform/database"
)

// MigratedPool returns a pool (with decimal support, as services open it) on
// a fresh database of t's own, where the migrations of schema are applied.
func MigratedPool(t testing.TB, schema string, migrations fs.FS) *pgxpool.Pool {
	t.Helper()
	url := NewDatabase(t, "schema_"+schema, func(ctx context.Context, connString string) error {
		pool, err := database.Open(ctx, database.Config{URL: connString}, "pgtest")
		if err != nil {
			return err
		}
		defer pool.Close()
		return database.Migrate(ctx, pool, schema, migrations, slog.New(slog.DiscardHandler))
	})
	pool, err := database.Open(context.Background(), database.Config{URL: url, MaxConns: 8}, "pgtest")
	if err != nil {
		t.Fatalf("open test pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
