package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const envSynopsis = `usage: abacusdev env [--data DIR]
  print the endpoints, service token, database URL and demo credentials of
  the make run using DIR (from DIR/demo-credentials.json) as shell
  variables, for: eval "$(bin/abacusdev env)"`

// runEnv is `abacusdev env`: the demo of a `make run` as shell variable
// assignments, so that the README's examples can be pasted as they are.
// The variables are not exported: they reach the commands typed in that
// shell, not the programs started from it (a later make run included).
func runEnv(_ context.Context, args []string) error {
	fset := flag.NewFlagSet("abacusdev env", flag.ContinueOnError)
	dataDir := fset.String("data", ".data", "the data directory of the make run whose demo to print (make run DATA=...)")
	if err := parseFlags(fset, args, envSynopsis); err != nil {
		return err
	}
	file := filepath.Join(*dataDir, "demo-credentials.json")
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: start the system with make run first (it writes the file once everything is up), or name its data directory with --data", file)
	}
	if err != nil {
		return err
	}
	var d demoFile
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if d.Gateway == "" || d.Tenant == "" || d.ServiceToken == "" {
		return fmt.Errorf("%s lacks the gateway, the tenant or the service token (an older make run wrote it); start make run again to rewrite it", file)
	}
	if !runningOn(*dataDir) {
		fmt.Fprintf(os.Stderr, "abacusdev env: no make run is using %s now: these are its last run's values, and nothing answers there until make run starts again (with a new service token)\n", *dataDir)
	}
	return writeEnv(os.Stdout, d, file)
}

// envVar is one line of `abacusdev env`.
type envVar struct{ name, value, about string }

// demoEnv lists the variables `abacusdev env` prints for d.
func demoEnv(d demoFile) []envVar {
	return []envVar{
		{"GATEWAY", d.Gateway, "the gateway's HTTP address; its API reference is $GATEWAY/docs"},
		{"CUSTOMER_GRPC", d.GRPC["customer"], "gRPC addresses of the services"},
		{"LEDGER_GRPC", d.GRPC["ledger"], ""},
		{"HISTORY_GRPC", d.GRPC["history"], ""},
		{"SERVICE_TOKEN", d.ServiceToken, "gRPC callers send authorization: Bearer $SERVICE_TOKEN (new on each make run)"},
		{"TENANT", d.Tenant, "the demo tenant; gRPC callers send x-abacus-tenant: $TENANT"},
		{"DB_URL", d.DatabaseURL, "the database (bin/customer admin reads DATABASE_URL)"},
		{"EXIGO_LOGIN", d.Exigo.Login, "Exigo: Basic $EXIGO_LOGIN@$EXIGO_COMPANY:$EXIGO_PASSWORD"},
		{"EXIGO_COMPANY", d.Exigo.Company, ""},
		{"EXIGO_PASSWORD", d.Exigo.Password, ""},
		{"IGSEND_PUBLIC", d.Igsend.Live.Public, "igsend live keys: Basic $IGSEND_PUBLIC:$IGSEND_PRIVATE"},
		{"IGSEND_PRIVATE", d.Igsend.Live.Private, ""},
		{"IGSEND_SANDBOX_PUBLIC", d.Igsend.Sandbox.Public, "igsend sandbox keys (the tenant's sandbox twin)"},
		{"IGSEND_SANDBOX_PRIVATE", d.Igsend.Sandbox.Private, ""},
		{"MANEX_KEY", d.Manex.APIKey, "MANEX: the last path segment"},
		{"MAGENTO_USER", d.Magento.APIUser, "Magento: Basic $MAGENTO_USER:$MAGENTO_KEY (also good for the native /v1 API)"},
		{"MAGENTO_KEY", d.Magento.APIKey, ""},
	}
}

func writeEnv(w io.Writer, d demoFile, file string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# the demo of make run, from %s\n", file)
	for _, v := range demoEnv(d) {
		if v.about != "" {
			fmt.Fprintf(&b, "# %s\n", v.about)
		}
		fmt.Fprintf(&b, "%s=%s\n", v.name, shellQuote(v.value))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s for a POSIX shell, as one word, taken literally.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellQuoteIfNeeded is s as it is when the shell takes it literally, else
// quoted.
func shellQuoteIfNeeded(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return shellQuote(s)
}

// runningOn reports whether an `abacusdev run` holds the lock of data.
func runningOn(data string) bool {
	f, err := os.Open(filepath.Join(data, "run.lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	// A shared lock, given up at once: held, run's exclusive one refuses it.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
