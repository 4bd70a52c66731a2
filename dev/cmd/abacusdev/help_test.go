package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// helpCase is one command line of a built binary and what its output must
// mention.
type helpCase struct {
	bin  string
	args []string
	want []string
}

// Every binary and every subcommand answers -h, --help or help with its
// usage, its subcommands and its flags (exit 0), and a command line it
// cannot run with a message naming what is wrong (exit 2) — all without a
// database or the network: DATABASE_URL and the peers' addresses point at a
// listener that counts the connections it is offered, and the working and
// temporary directories (where a cluster, a benchmark's stack or make run's
// data would go) must stay empty.
func TestEveryCommandAnswersHelpWithoutADatabase(t *testing.T) {
	bin := buildBinaries(t)
	trap := newConnTrap(t)
	work := t.TempDir()
	env := append(os.Environ(),
		"DATABASE_URL=postgres://app@"+trap.addr+"/abacus?sslmode=disable",
		"PGHOST=127.0.0.1", "PGPORT="+trap.port,
		"ABACUS_CUSTOMER_ADDR="+trap.addr, "ABACUS_LEDGER_ADDR="+trap.addr, "ABACUS_HISTORY_ADDR="+trap.addr,
		"ABACUS_SERVICE_TOKEN=help-test", "TMPDIR="+work, "TEST_DATABASE_URL=",
	)
	run := func(t *testing.T, c helpCase) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, c.bin), c.args...)
		cmd.Dir, cmd.Env = work, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			code = ee.ExitCode()
		default:
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	name := func(c helpCase) string { return strings.Join(append([]string{c.bin}, c.args...), " ") }

	for _, c := range helpCases() {
		t.Run(name(c), func(t *testing.T) {
			stdout, stderr, code := run(t, c)
			if code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	for _, c := range usageErrorCases() {
		t.Run(name(c), func(t *testing.T) {
			_, stderr, code := run(t, c)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, stderr)
				}
			}
		})
	}

	if n := trap.count(t); n > 0 {
		t.Errorf("%d connections were made to the database or service address; help and usage errors must make none", n)
	}
	if left, _ := os.ReadDir(work); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("the commands left %s in their working and temporary directory; help must start nothing", strings.Join(names, ", "))
	}
}

func helpCases() []helpCase {
	service := func(name string, own ...string) []helpCase {
		want := append([]string{"serve", "migrate", "help", "ABACUS_GRPC_ADDR", "DATABASE_URL", "(default info)", "ABACUS_SERVICE_TOKEN  (environment only)"}, own...)
		var out []helpCase
		for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"serve", "-h"}, {"migrate", "--help"}, {"-log-level", "debug", "help"}} {
			out = append(out, helpCase{name, args, want})
		}
		return out
	}
	cases := service("customer", "admin", "ABACUS_MAGENTO_SESSION_TTL", "(default :9091)")
	cases = append(cases, service("ledger", "ABACUS_LEDGER_MAX_BATCH", "(default 512)")...)
	cases = append(cases, service("history", "ABACUS_HISTORY_BATCH_SIZE", "(default :9093)")...)

	admin := []string{"tenant create", "tenant list", "credential create", "credential list", "credential revoke"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		cases = append(cases, helpCase{"customer", append([]string{"admin"}, args...), admin})
	}
	cases = append(cases,
		helpCase{"customer", []string{"admin", "tenant", "--help"}, []string{"tenant create", "tenant list"}},
		helpCase{"customer", []string{"admin", "credential", "help"}, []string{"credential create", "credential list", "credential revoke"}},
		helpCase{"customer", []string{"admin", "tenant", "create", "--help"}, []string{"-name", "-company", "-json"}},
		helpCase{"customer", []string{"admin", "tenant", "list", "-h"}, []string{"-json"}},
		helpCase{"customer", []string{"admin", "credential", "create", "-h"}, []string{"-tenant", "-kind", "-identifier", "igsend-sandbox"}},
		helpCase{"customer", []string{"admin", "credential", "list", "--help"}, []string{"-tenant", "-revoked"}},
		helpCase{"customer", []string{"admin", "credential", "revoke", "-h"}, []string{"-id"}},
		helpCase{"customer", []string{"admin", "-log-level", "debug", "--", "tenant", "list", "--help"}, []string{"-json"}},
	)

	gateway := []string{"gateway [flags]", "ABACUS_HTTP_ADDR", "(default :8080)", "ABACUS_SERVICE_TOKEN", "-customer-addr"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		cases = append(cases, helpCase{"gateway", args, gateway})
	}

	top := []string{"help"}
	for _, c := range commands {
		top = append(top, "abacusdev "+c.name)
		cases = append(cases,
			helpCase{"abacusdev", []string{c.name, "-h"}, []string{"abacusdev " + c.name}},
			helpCase{"abacusdev", []string{"help", c.name}, []string{"abacusdev " + c.name}},
		)
	}
	benches := append(benchNames(), bareServerCmd)
	runFlags := []string{"-gateway-port", "(default 8080)", "-data", "-pg-port"}
	chaosFlags := []string{"-short", "-kills", "(default 6)"}
	for _, args := range [][]string{{}, {"-h"}, {"--help"}} {
		cases = append(cases,
			helpCase{"abacusdev", append([]string{"help"}, args...), top},
			helpCase{"abacusdev", append([]string{"bench"}, orHelp(args)...), benches},
			helpCase{"abacusdev", append([]string{"run"}, orHelp(args)...), runFlags},
			helpCase{"abacusdev", append([]string{"chaos"}, orHelp(args)...), chaosFlags},
			helpCase{"abacusdev", append([]string{"with-postgres"}, orHelp(args)...), []string{"-data", "TEST_DATABASE_URL"}},
		)
	}
	cases = append(cases,
		helpCase{"abacusdev", []string{"help", "run"}, runFlags},
		helpCase{"abacusdev", []string{"help", "bench"}, benches},
		helpCase{"abacusdev", []string{"help", "chaos"}, chaosFlags},
		helpCase{"abacusdev", []string{"bench", bareServerCmd, "-h"}, []string{"-db", "-listen", "-conns"}},
	)
	for _, n := range benchNames() {
		want := []string{"abacusdev bench " + n, benchSummaries[n], "-duration", "(default 10s)", "-clients", "-bin"}
		cases = append(cases,
			helpCase{"abacusdev", []string{"bench", n, "-h"}, want},
			helpCase{"abacusdev", []string{"help", "bench", n}, want},
		)
	}
	return cases
}

// orHelp is args, or "help" when args are none.
func orHelp(args []string) []string {
	if len(args) == 0 {
		return []string{"help"}
	}
	return args
}

func usageErrorCases() []helpCase {
	return []helpCase{
		{"customer", []string{"admin"}, []string{"admin: a command is required", "tenant create", "credential revoke"}},
		{"customer", []string{"admin", "tenant"}, []string{"a command is required: create, list"}},
		{"customer", []string{"admin", "tenant", "delete"}, []string{`unknown command "delete"`, "create, list"}},
		{"customer", []string{"admin", "users"}, []string{`unknown command "users"`, "tenant, credential"}},
		{"customer", []string{"admin", "credential", "create"}, []string{"credential create: --tenant is required"}},
		{"customer", []string{"admin", "credential", "create", "--tenant", "t1"}, []string{"credential create: --kind is required"}},
		{"customer", []string{"admin", "credential", "create", "--tenant", "t1", "--kind", "visa"}, []string{"--kind must be one of", "magento"}},
		{"customer", []string{"admin", "credential", "list"}, []string{"credential list: --tenant is required"}},
		{"customer", []string{"admin", "credential", "revoke"}, []string{"credential revoke: --id is required"}},
		{"customer", []string{"admin", "tenant", "create", "--name", "Acme"}, []string{"tenant create: --company is required"}},
		{"customer", []string{"admin", "tenant", "list", "--all"}, []string{"-all"}},
		{"customer", []string{"admin", "tenant", "list", "extra"}, []string{"unexpected arguments: extra"}},
		{"customer", []string{"admin", "-log-level", "debug", "tenant", "list"}, []string{"-log-level", `go before a "--"`}},
		{"customer", []string{"serv"}, []string{`unknown command "serv"`, "serve, migrate, admin"}},
		{"ledger", []string{"--nope"}, []string{"-nope", "ledger --help"}},
		{"history", []string{"migrate", "extra"}, []string{"unexpected arguments: extra"}},
		{"gateway", []string{"serve"}, []string{"unexpected arguments: serve"}},
		{"abacusdev", nil, []string{"a command is required", "with-postgres", "bench"}},
		{"abacusdev", []string{"test"}, []string{`unknown command "test"`, "with-postgres, run, ", "bench, chaos"}},
		{"abacusdev", []string{"bench", "fast"}, []string{`unknown benchmark "fast"`, strings.Join(benchNames(), ", ")}},
		{"abacusdev", []string{"bench", "ledger", "-nope"}, []string{"bench ledger", "-nope"}},
		{"abacusdev", []string{"bench", bareServerCmd}, []string{"-db is required"}},
		{"abacusdev", []string{"run", "--port", "1"}, []string{"run:", "-port"}},
		{"abacusdev", []string{"chaos", "-clients", "0"}, []string{"-clients"}},
		{"abacusdev", []string{"with-postgres"}, []string{"no command given", "usage: abacusdev with-postgres"}},
	}
}

// Every benchmark says in its help what it measures.
func TestEveryBenchmarkHasASummary(t *testing.T) {
	for _, n := range benchNames() {
		if benchSummaries[n] == "" {
			t.Errorf("benchmark %q has no entry in benchSummaries", n)
		}
	}
	for n := range benchSummaries {
		if _, ok := benchmarks[n]; !ok {
			t.Errorf("benchSummaries names %q, which is no benchmark", n)
		}
	}
}

// goWorkDir is the directory of the go.work file.
func goWorkDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOWORK").Output()
	gowork := strings.TrimSpace(string(out))
	if err != nil || gowork == "" || gowork == "off" {
		t.Fatalf("this test needs the workspace's go.work (go env GOWORK: %q, %v)", gowork, err)
	}
	return filepath.Dir(gowork)
}

// buildBinaries builds the five binaries into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	root := goWorkDir(t)
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"./services/customer/cmd/customer", "./services/ledger/cmd/ledger", "./services/history/cmd/history",
		"./gateway/cmd/gateway", "./dev/cmd/abacusdev")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir
}

// connTrap is a TCP listener that counts the connections offered to it and
// closes each at once, so that a client that tried fails.
type connTrap struct {
	ln         net.Listener
	addr, port string
	mu         sync.Mutex
	conns      int
	sentinel   chan struct{}
}

func newConnTrap(t *testing.T) *connTrap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c := &connTrap{ln: ln, addr: ln.Addr().String(), port: port, sentinel: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			var b [1]byte
			if n, _ := conn.Read(b[:]); n == 1 && b[0] == 0xff {
				close(c.sentinel) // our own last connection: every earlier one was accepted before it
				conn.Close()
				return
			}
			c.mu.Lock()
			c.conns++
			c.mu.Unlock()
			conn.Close()
		}
	}()
	return c
}

// count returns the connections offered so far: it connects itself and
// waits until the listener has reached that connection, so every one made
// before it, still in the accept queue, has been counted.
func (c *connTrap) count(t *testing.T) int {
	t.Helper()
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0xff}); err != nil {
		t.Fatal(err)
	}
	<-c.sentinel
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns
}
