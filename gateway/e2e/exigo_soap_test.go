package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// phpOnce finds a PHP with the soap extension, installing php-cli and
// php-soap when missing.
var phpOnce = installedOnce(func() (string, error) {
	out, err := exec.Command("php", "-m").Output()
	if err != nil || !strings.Contains("\n"+string(out), "\nsoap\n") {
		return "", exec.ErrNotFound
	}
	return exec.LookPath("php")
}, "php-cli", "php-soap")

// installedOnce returns a function that finds a SOAP client with find and,
// the first time it is missing, installs pkgs with apt-get (when running as
// root) and looks again: make test and .ci/run install the clients first;
// this covers a bare `go test`.
func installedOnce[T any](find func() (T, error), pkgs ...string) func() (T, error) {
	return sync.OnceValues(func() (T, error) {
		if v, err := find(); err == nil {
			return v, nil
		}
		if err := aptInstall(pkgs...); err != nil {
			var zero T
			return zero, err
		}
		return find()
	})
}

// aptInstall installs Debian packages with apt-get when this runs as root
// on a machine that has it, updating the package lists when the first
// attempt fails (a fresh machine may have none); elsewhere it does nothing
// and the caller finds the client still missing.
func aptInstall(pkgs ...string) error {
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return nil
	}
	aptGet := func(args ...string) ([]byte, error) {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	// Tests that install different clients run in parallel: wait for dpkg's lock.
	install := append([]string{"-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "--no-install-recommends"}, pkgs...)
	if _, err := aptGet(install...); err != nil {
		if out, err := aptGet("update", "-q"); err != nil {
			return fmt.Errorf("apt-get update: %w\n%s", err, out)
		}
		if out, err := aptGet(install...); err != nil {
			return fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(pkgs, " "), err, out)
		}
	}
	return nil
}

// skipWithout skips, loudly, only when a real client is absent and could not
// be installed here (err says why); CI installs every client, so there the
// test runs.
func skipWithout(t *testing.T, err error, client, install string) {
	t.Helper()
	if err != nil {
		t.Skipf("!!! SKIPPED: %s is not installed and could not be installed (%v); "+
			"run `%s` to test the SOAP services with a real client !!!", client, err, install)
	}
}

// requirePHP finds PHP's SoapClient or skips loudly.
func requirePHP(t *testing.T) string {
	t.Helper()
	php, err := phpOnce()
	skipWithout(t, err, "PHP SoapClient (php-cli, php-soap)", "apt-get install -y php-cli php-soap")
	return php
}

// PHP SoapClient, generated from the served WSDL, runs the seeds' Exigo
// SOAP examples (testdata/soap/exigo_client.php) and the faults around
// them against the whole system.
func TestExigoSOAPWithPHP(t *testing.T) {
	t.Parallel()
	php := requirePHP(t)
	got := runSOAPClient(t, php, "testdata/soap/exigo_client.php")
	raw, _ := got["malformed envelope"]["raw"].(string)
	if !strings.Contains(raw, "<faultcode>soap:Client</faultcode>") || !strings.Contains(raw, "not well-formed XML") {
		t.Errorf("malformed envelope: answer %q, want a soap:Client fault", raw)
	}
}

// An Abacus-side failure reaches a SOAP client as a soap:Server fault with
// the REST form's readable message: the same script, through a gateway
// whose ledger never answers.
func TestExigoSOAPServerFaultWithPHP(t *testing.T) {
	t.Parallel()
	php := requirePHP(t)
	gw := startGateway(t, "ABACUS_LEDGER_ADDR="+startFrozen(t), "ABACUS_READ_TIMEOUT=300ms")
	tc := newTenant(t)
	if id := createNative(t, basicAuth(tc.magentoUser, tc.magentoKey), `{"name":"One","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"1"}`); id != 1 {
		t.Fatalf("first customer has id %d, want 1", id)
	}
	got := runScript(t, php, "testdata/soap/exigo_client.php", gw+"/3.0/ExigoApi.asmx?WSDL", tc.exigoLogin, tc.exigoPassword, tc.company)
	for _, name := range []string{"balances by id", "balances by key"} {
		f, _ := got[name]["fault"].(map[string]any)
		if code, _ := f["code"].(string); (code != "soap:Server" && code != "Server") || f["string"] != "Service temporarily unavailable. Try again later." {
			t.Errorf("%s: answer %v, want a soap:Server fault \"Service temporarily unavailable. Try again later.\"", name, got[name])
		}
	}
}

// zeep, a second generated client with other prefixes (soap-env, ns0), runs
// the same steps (testdata/soap/exigo_client_zeep.py).
func TestExigoSOAPWithZeep(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3" // TOOLCHAIN.md: not another python on PATH
	if err := exec.Command(python, "-c", "import zeep").Run(); err != nil {
		t.Skipf("!!! SKIPPED: zeep is not installed for %s (%v); run `apt-get install -y python3-zeep` to test the Exigo SOAP service with it !!!", python, err)
	}
	runSOAPClient(t, python, "testdata/soap/exigo_client_zeep.py")
}

// runScript runs a client script with args and returns what it prints: a
// JSON object of its steps, each the step's answer or fault.
func runScript(t *testing.T, interpreter, scriptPath string, args ...string) map[string]map[string]any {
	t.Helper()
	script, err := filepath.Abs(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), interpreter, append([]string{script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", scriptPath, err, out, stderr.String())
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s printed no JSON: %v\n%s", scriptPath, err, out)
	}
	return got
}

// runSOAPClient gives a fresh tenant customer 1 (key "1") with USD and BHD
// balances, runs the client script against the served WSDL, checks the
// steps every script runs and returns all of its answers.
func runSOAPClient(t *testing.T, interpreter, scriptPath string) map[string]map[string]any {
	t.Helper()
	tc := newTenant(t)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	if id := createNative(t, native, `{"name":"One","status":"CUSTOMER_STATUS_ACTIVE","customer_key":"1"}`); id != 1 {
		t.Fatalf("first customer has id %d, want 1", id)
	}
	post(t, native, 1, `{"currency":"USD","kind":"PAYMENT","amount":"100.00"}`)
	post(t, native, 1, `{"currency":"BHD","kind":"PAYMENT","amount":"1.250"}`)

	got := runScript(t, interpreter, scriptPath, sys.gateway+"/3.0/ExigoApi.asmx?WSDL", tc.exigoLogin, tc.exigoPassword, tc.company)
	for _, name := range []string{"balances by id", "balances by key"} {
		res, _ := got[name]["ok"].(map[string]any)
		if status := field(res, "Result", "Status"); status != "Success" {
			t.Errorf("%s: Result.Status = %v; answer %v", name, status, got[name])
		}
		rows, _ := field(res, "CustomerBalances", "CustomerBalanceResponse").([]any)
		var seen []string
		for _, r := range rows {
			m, _ := r.(map[string]any)
			seen = append(seen, fmt.Sprint(m["CurrencyCode"], " ", m["Balance"]))
		}
		if want := []string{"BHD 1.250", "USD 100.00"}; !cmp.Equal(seen, want) {
			t.Errorf("%s: balances %v, want %v", name, seen, want)
		}
	}
	for _, name := range []string{"update fields 1 and 2", "update field 3 by key"} {
		status := field(got[name]["ok"], "Result", "Status")
		if status == nil {
			// zeep hands over the only element of a result type itself.
			status = field(got[name]["ok"], "Status")
		}
		if status != "Success" {
			t.Errorf("%s: Result.Status = %v; answer %v", name, status, got[name])
		}
	}
	fields, err := extendedRecord(t, tc.id, 1, 1, 1)
	if err != nil {
		t.Fatalf("read the extended record: %v", err)
	}
	if fields.GetField1() != "one" || fields.GetField2() != "" || fields.GetField3() != "three" || fields.GetField4() != "" {
		t.Errorf("extended record = %v, want field1 one, field2 \"\", field3 three, field4 unset", fields)
	}

	faults := map[string][2]string{
		"unknown customer":   {"soap:Client", "No customer has customerID 99."},
		"both identifiers":   {"soap:Client", "Send customerID or customerKey, not both."},
		"neither identifier": {"soap:Client", "customerID or customerKey is required."},
		"bad credential":     {"soap:Client", "Invalid login, company or password."},
		"missing header":     {"soap:Client", "Invalid login, company or password."},
	}
	for name, want := range faults {
		f, _ := got[name]["fault"].(map[string]any)
		// PHP drops the prefix of a faultcode in the SOAP envelope namespace.
		code, _ := f["code"].(string)
		if code != want[0] && "soap:"+code != want[0] {
			t.Errorf("%s: faultcode %q, want %s; answer %v", name, code, want[0], got[name])
		}
		if f["string"] != want[1] {
			t.Errorf("%s: faultstring %q, want %q", name, f["string"], want[1])
		}
	}
	return got
}
