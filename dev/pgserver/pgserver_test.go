package pgserver_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/dev/pgserver"
)

// TestStartStop runs a real throwaway cluster: it needs the PostgreSQL
// binaries (not a running server), which `make test` installs if missing.
func TestStartStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// t.TempDir's parents are private to root; Start makes them traversable
	// for the postgres user when the test runs as root.
	dir := filepath.Join(t.TempDir(), "pg")
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Throwaway: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	if srv.Port() == 0 {
		t.Fatal("Port() = 0 after Start with a picked port")
	}

	conn, err := pgx.Connect(ctx, srv.URL(pgserver.DefaultDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Fatalf("throwaway server: fsync = %q, %v; want off", fsync, err)
	}
	for _, f := range []string{"pgdata/PG_VERSION", "postgres.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRestartAfterKill checks that Start recovers a cluster whose owner
// died without stopping it: the old server is stopped and the cluster is
// started again on the newly requested port, keeping its data.
func TestRestartAfterKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "pg")
	first, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, first.URL(pgserver.DefaultDatabase))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (id int)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// Do not call first.Stop: this is the "previous run was killed" case.
	second, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Throwaway: true})
	if err != nil {
		first.Stop()
		t.Fatal(err)
	}
	defer second.Stop() // Stop is idempotent: safe after the explicit call below
	conn, err = pgx.Connect(ctx, second.URL(pgserver.DefaultDatabase))
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT count(*) FROM kept")
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("data lost across restart: %v", err)
	}

	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if running, err := pgserver.StopCluster(ctx, dir); err != nil || running {
		t.Fatalf("StopCluster after Stop = %v, %v; want false, nil", running, err)
	}
}

// TestStartFailureShowsLog checks that a failed start reports why, from the
// server log: here the requested port is taken.
func TestStartFailureShowsLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(t.TempDir(), "pg"), Port: port, Throwaway: true})
	if err == nil {
		srv.Stop()
		t.Fatalf("Start on busy port %d succeeded", port)
	}
	if !strings.Contains(err.Error(), "could not bind") {
		t.Fatalf("error does not include the server log: %v", err)
	}
	t.Logf("expected error:\n%v", err)
}

// TestCrashRestart checks that Crash stops the server at once and Restart
// brings it back on the same port with every committed row (the server is
// durable here: crash recovery replays the WAL).
func TestCrashRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(t.TempDir(), "pg")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	url := srv.URL(pgserver.DefaultDatabase)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Crash(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("the connection still answers after Crash")
	}
	conn.Close(ctx)
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil || n != 100 {
		t.Fatalf("after Restart: %d rows, %v; want 100", n, err)
	}
}
