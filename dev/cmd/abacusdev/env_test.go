package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What abacusdev env prints, eval'd by bash, gives back every value as it
// is, whatever characters it holds.
func TestEnvRoundTripsThroughBash(t *testing.T) {
	t.Parallel()
	var d demoFile
	d.Gateway, d.Tenant = "http://127.0.0.1:8080", "t-1"
	d.GRPC = map[string]string{"customer": "127.0.0.1:9091", "ledger": "127.0.0.1:9092", "history": "127.0.0.1:9093"}
	d.Magento.APIKey = `it's $HOME "quoted" \ $(echo no) ` + "`echo no`"
	d.DatabaseURL = "postgres://app@127.0.0.1:54329/abacus?sslmode=disable&x=1"
	var b strings.Builder
	if err := writeEnv(&b, d, ".data/demo-credentials.json"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", `eval "$(cat)"; printf '%s\n%s\n%s\n' "$MAGENTO_KEY" "$DB_URL" "$LEDGER_GRPC"`)
	cmd.Stdin = strings.NewReader(b.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s\ninput:\n%s", err, out, b.String())
	}
	want := d.Magento.APIKey + "\n" + d.DatabaseURL + "\n" + d.GRPC["ledger"] + "\n"
	if string(out) != want {
		t.Fatalf("got %q; want %q\ninput:\n%s", out, want, b.String())
	}
}

// Without a make run's file, abacusdev env says what to do.
func TestEnvWithoutAFileSaysToStartMakeRun(t *testing.T) {
	t.Parallel()
	err := runEnv(context.Background(), []string{"--data", filepath.Join(t.TempDir(), "none")})
	if err == nil || !strings.Contains(err.Error(), "make run") || !strings.Contains(err.Error(), "demo-credentials.json") {
		t.Fatalf("runEnv without a file: %v; want an error naming the file and make run", err)
	}
}

// env tells a running make run's data directory from one left behind.
func TestRunningOnFollowsRunsLock(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if runningOn(data) {
		t.Fatal("runningOn: true without a lock file")
	}
	unlock, err := lockData(data)
	if err != nil {
		t.Fatal(err)
	}
	if !runningOn(data) {
		t.Fatal("runningOn: false while lockData holds the lock")
	}
	unlock()
	if runningOn(data) {
		t.Fatal("runningOn: true after the lock was let go")
	}
}
