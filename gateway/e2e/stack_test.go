// Package e2e runs the real binaries — customer, ledger, history and the
// gateway — as separate processes on a real PostgreSQL, and talks to them
// over real gRPC and HTTP.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// stack is the running system shared by the tests of this package.
type stack struct {
	token      string
	dbURL      string
	gateway    string // http://host:port
	addrs      map[string]string
	procs      []*exec.Cmd
	logDir     string
	admin      customerv1.TenantAdminServiceClient
	conns      map[string]*grpc.ClientConn
	tokenConns map[string]*grpc.ClientConn // with the service token
}

var sys *stack

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		fmt.Fprintln(os.Stderr, "e2e: TEST_DATABASE_URL is not set; run the tests with `make test`, which starts a throwaway PostgreSQL")
		return 1
	}
	s, cleanup, err := startStack(base)
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

func startStack(base string) (*stack, func(), error) {
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

	// A database of its own on the test server.
	dbName := "abacus_e2e_" + randomHex(6)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, cleanup, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		admin.Close(ctx)
		return nil, cleanup, err
	}
	cleanups = append(cleanups, func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
		admin.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		return nil, cleanup, err
	}
	u.Path = "/" + dbName

	s := &stack{token: randomHex(16), dbURL: u.String(), addrs: map[string]string{}, logDir: tmp,
		conns: map[string]*grpc.ClientConn{}, tokenConns: map[string]*grpc.ClientConn{}}
	for _, name := range []string{"customer", "ledger", "history", "gateway", "customer-admin", "ledger-admin", "history-admin", "gateway-admin"} {
		if s.addrs[name], err = freeAddr(); err != nil {
			return nil, cleanup, err
		}
	}
	env := append(os.Environ(),
		"DATABASE_URL="+s.dbURL, "ABACUS_SERVICE_TOKEN="+s.token, "ABACUS_LOG_LEVEL=debug",
		"ABACUS_CUSTOMER_ADDR="+s.addrs["customer"], "ABACUS_LEDGER_ADDR="+s.addrs["ledger"],
		"ABACUS_HISTORY_ADDR="+s.addrs["history"], "ABACUS_SHUTDOWN_TIMEOUT=5s",
		// Failures from 127.0.0.1 are many in these tests; the limiter has its own tests.
		"ABACUS_AUTH_FAILURE_BURST=100000",
	)
	cleanups = append(cleanups, func() { s.stopAll() })
	for _, name := range []string{"customer", "ledger", "history", "gateway"} {
		penv := append(env[:len(env):len(env)], "ABACUS_ADMIN_ADDR="+s.addrs[name+"-admin"])
		if name == "gateway" {
			penv = append(penv, "ABACUS_HTTP_ADDR="+s.addrs[name])
		} else {
			penv = append(penv, "ABACUS_GRPC_ADDR="+s.addrs[name])
		}
		logf, err := os.Create(filepath.Join(tmp, name+".log"))
		if err != nil {
			return nil, cleanup, err
		}
		cmd := exec.Command(filepath.Join(tmp, name))
		cmd.Env, cmd.Stdout, cmd.Stderr = penv, logf, logf
		if err := cmd.Start(); err != nil {
			return nil, cleanup, err
		}
		s.procs = append(s.procs, cmd)
		if name == "customer" {
			// The others check tenants with the customer service; start it first
			// so its migrations do not race theirs for the log.
			if err := s.waitServing(ctx, name, 60*time.Second); err != nil {
				return nil, cleanup, s.withLogs(err)
			}
		}
	}
	for _, name := range []string{"customer", "ledger", "history"} {
		if err := s.waitServing(ctx, name, 60*time.Second); err != nil {
			return nil, cleanup, s.withLogs(err)
		}
		conn, err := grpc.NewClient(s.addrs[name], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, cleanup, err
		}
		s.conns[name] = conn
		tconn, err := grpc.NewClient(s.addrs[name], append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(s.token)...)...)
		if err != nil {
			return nil, cleanup, err
		}
		s.tokenConns[name] = tconn
		cleanups = append(cleanups, func() { conn.Close(); tconn.Close() })
	}
	s.gateway = "http://" + s.addrs["gateway"]
	if err := s.waitHTTP(ctx, s.gateway+"/healthz", 30*time.Second); err != nil {
		return nil, cleanup, s.withLogs(err)
	}
	s.admin = customerv1.NewTenantAdminServiceClient(s.tokenConns["customer"])
	return s, cleanup, nil
}

func (s *stack) withLogs(err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", err)
	for _, name := range []string{"customer", "ledger", "history", "gateway"} {
		raw, _ := os.ReadFile(filepath.Join(s.logDir, name+".log"))
		fmt.Fprintf(&b, "--- %s.log ---\n%s\n", name, raw)
	}
	return fmt.Errorf("%s", b.String())
}

func (s *stack) stopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
}

// waitServing polls gRPC health: readiness, not time, ends the wait.
func (s *stack) waitServing(ctx context.Context, name string, limit time.Duration) error {
	conn, err := grpc.NewClient(s.addrs[name], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(limit)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not SERVING after %s: %v %v", name, limit, resp.GetStatus(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *stack) waitHTTP(ctx context.Context, u string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		code, _, err := httpDo(ctx, "GET", u, nil, nil)
		if err == nil && code == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not 200 after %s: %d %v", u, limit, code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
