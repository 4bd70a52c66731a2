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
	if d.Gateway == "" || d.Tenant == "" {
		return fmt.Errorf("%s names no gateway or tenant; run make run again to rewrite it", file)
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
