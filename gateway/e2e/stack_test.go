// Package e2e runs the real binaries — customer, ledger, history and the
// gateway — as separate processes on a real PostgreSQL, and talks to them
// over real gRPC and HTTP.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/abacus-ledger/abacus/dev/devstack"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// stack is the running system shared by the tests of this package.
type stack struct {
	*devstack.Stack
	token      string
	dbURL      string
	gateway    string // http://host:port
	binDir     string
	admin      customerv1.TenantAdminServiceClient
	conns      map[string]*grpc.ClientConn
	tokenConns map[string]*grpc.ClientConn // with the service token
}

var sys *stack

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		fmt.Fprintln(os.Stderr, "e2e: TEST_DATABASE_URL is not set; run the tests with `make test`, which starts a throwaway PostgreSQL")
		return 1
	}
	s, cleanup, err := startStack()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start stack:", err)
		if cleanup != nil {
			cleanup()
		}
		return 1
	}
	sys = s
	code := m.Run()
	cleanup()
	return code
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// workspaceRoot is the directory of go.work.
func workspaceRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", err
	}
	gw := strings.TrimSpace(string(out))
	if gw == "" || gw == "off" {
		return "", fmt.Errorf("not in the go.work workspace")
	}
	return filepath.Dir(gw), nil
}

// newDatabase creates a database of its own on the test server and returns
// its URL and a function that drops it.
func newDatabase(ctx context.Context, prefix string) (string, func(), error) {
	base := os.Getenv("TEST_DATABASE_URL")
	name := prefix + randomHex(6)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// startProcs starts the named binaries (all four when none are named) on
// database dbURL with the settings every test process shares, the shared
// stack's service token and the binaries it built.
func startProcs(ctx context.Context, binDir, logDir, dbURL, token string, only []string, env ...string) (*devstack.Stack, error) {
	return devstack.Start(ctx, devstack.Options{
		BinDir: binDir, LogDir: logDir, DatabaseURL: dbURL, Token: token, Only: only, StopGrace: 20 * time.Second,
		Env: append([]string{"ABACUS_LOG_LEVEL=debug", "ABACUS_SHUTDOWN_TIMEOUT=5s",
			// Failures from 127.0.0.1 are many in these tests; the limiter has its own tests.
			"ABACUS_AUTH_FAILURE_BURST=100000"}, env...),
	})
}

func startStack() (*stack, func(), error) {
	ctx := context.Background()
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	root, err := workspaceRoot()
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.MkdirTemp("", "abacus-e2e-")
	if err != nil {
		return nil, nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(tmp) })
	build := exec.Command("go", "build", "-o", tmp+"/",
		"./services/customer/cmd/customer", "./services/ledger/cmd/ledger",
		"./services/history/cmd/history", "./gateway/cmd/gateway")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, cleanup, fmt.Errorf("build: %v\n%s", err, out)
	}
	dbURL, drop, err := newDatabase(ctx, "abacus_e2e_")
	if err != nil {
		return nil, cleanup, err
	}
	cleanups = append(cleanups, drop)

	procs, err := startProcs(ctx, tmp, tmp, dbURL, randomHex(16), nil)
	if err != nil {
		return nil, cleanup, withLogs(tmp, err)
	}
	cleanups = append(cleanups, procs.Stop)
	s := &stack{Stack: procs, token: procs.Token, dbURL: dbURL, gateway: procs.Gateway(), binDir: tmp,
		conns: map[string]*grpc.ClientConn{}, tokenConns: map[string]*grpc.ClientConn{}}
	for _, name := range devstack.Services {
		conn, err := grpc.NewClient(s.Addr(name), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, cleanup, err
		}
		s.conns[name] = conn
		tconn, err := grpc.NewClient(s.Addr(name), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(s.token)...)...)
		if err != nil {
			return nil, cleanup, err
		}
		s.tokenConns[name] = tconn
		cleanups = append(cleanups, func() { conn.Close(); tconn.Close() })
	}
	s.admin = customerv1.NewTenantAdminServiceClient(s.tokenConns["customer"])
	return s, cleanup, nil
}

// withLogs adds to err the logs in dir: they go with the temporary
// directory.
func withLogs(dir string, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", err)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, path := range logs {
		raw, _ := os.ReadFile(path)
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(path), raw)
	}
	return errors.New(b.String())
}
