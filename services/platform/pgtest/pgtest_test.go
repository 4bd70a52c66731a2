package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// setup stands in for migrations. It closes its connection before
// returning, as NewDatabase requires.
func setup(ctx context.Context, connString string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE notes (owner text NOT NULL)")
	return err
}

// insertAndList inserts one row named after the test and returns every row
// the test's database holds.
func insertAndList(t *testing.T) []string {
	t.Parallel()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t, "pgtest_isolation", setup))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "INSERT INTO notes (owner) VALUES ($1)", t.Name()); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT owner FROM notes")
	if err != nil {
		t.Fatal(err)
	}
	owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return owners
}

// TestIsolationA and TestIsolationB run in parallel on databases cloned from
// the same template: each must see its own row and not the other's.
func TestIsolationA(t *testing.T) {
	if got := insertAndList(t); len(got) != 1 || got[0] != t.Name() {
		t.Fatalf("rows = %q, want only [%s]", got, t.Name())
	}
}

func TestIsolationB(t *testing.T) {
	if got := insertAndList(t); len(got) != 1 || got[0] != t.Name() {
		t.Fatalf("rows = %q, want only [%s]", got, t.Name())
	}
}
