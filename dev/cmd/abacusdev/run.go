package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/abacus-ledger/abacus/dev/pgserver"
)

// process is one Abacus binary the stack runs.
type process struct {
	name      string
	grpcPort  int // 0 for the gateway
	httpPort  int // gateway only
	adminPort int
	cmd       *exec.Cmd
	exited    chan error
	// How it was started, for restart.
	bin, logPath string
	env          []string
}

// stackOptions configure startStack.
type stackOptions struct {
	binDir, dataDir, host string
	gatewayPort, pgPort   int
	// extraEnv is added to every process's environment.
	extraEnv []string
	say      func(format string, a ...any)
}

// stack is a running system: PostgreSQL and the four processes.
type stack struct {
	token, dbURL, gateway string
	grpc                  map[string]string
	procs                 []*process
	addr                  func(port int) string
	stops                 []func()
	pg                    *pgserver.Server // nil when DATABASE_URL names the server
}

// stop stops the processes, then PostgreSQL.
func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// startStack starts PostgreSQL (under DATA/pg, or DATABASE_URL), applies
// the migrations, starts the three services and the gateway as separate
// processes and waits until each is ready. On error it stops what it
// started.
func startStack(ctx context.Context, o stackOptions) (_ *stack, err error) {
	say := o.say
	s := &stack{addr: func(port int) string { return net.JoinHostPort(o.host, strconv.Itoa(port)) }}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if err := os.MkdirAll(filepath.Join(o.dataDir, "logs"), 0o755); err != nil {
		return nil, err
	}
	s.dbURL = os.Getenv("DATABASE_URL")
	if s.dbURL != "" {
		say("using DATABASE_URL from the environment")
	} else {
		say("starting PostgreSQL in %s", filepath.Join(o.dataDir, "pg"))
		srv, err := pgserver.Start(ctx, pgserver.Options{
			Dir: filepath.Join(o.dataDir, "pg"), Port: freePortFrom(o.host, o.pgPort), AllowInstall: true,
			Settings: strings.Fields(os.Getenv("ABACUSDEV_PG_SETTINGS")),
			Logf:     func(f string, a ...any) { say(f, a...) },
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		s.stops = append(s.stops, func() {
			say("stopping PostgreSQL (data kept in %s)", filepath.Join(o.dataDir, "pg"))
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stop postgres:", err)
			}
		})
		s.pg = srv
		s.dbURL = srv.URL(pgserver.DefaultDatabase)
		say("PostgreSQL listening on 127.0.0.1:%d", srv.Port())
	}

	s.token = randomHex(24)
	procs := []*process{
		{name: "customer", grpcPort: freePortFrom(o.host, 9091), adminPort: freePortFrom(o.host, 9191)},
		{name: "ledger", grpcPort: freePortFrom(o.host, 9092), adminPort: freePortFrom(o.host, 9192)},
		{name: "history", grpcPort: freePortFrom(o.host, 9093), adminPort: freePortFrom(o.host, 9193)},
		{name: "gateway", httpPort: freePortFrom(o.host, o.gatewayPort), adminPort: freePortFrom(o.host, 9190)},
	}
	s.procs = procs
	addr := s.addr
	s.grpc = map[string]string{"customer": addr(procs[0].grpcPort), "ledger": addr(procs[1].grpcPort), "history": addr(procs[2].grpcPort)}
	env := append(os.Environ(),
		"DATABASE_URL="+s.dbURL,
		"ABACUS_SERVICE_TOKEN="+s.token,
		"ABACUS_CUSTOMER_ADDR="+s.grpc["customer"],
		"ABACUS_LEDGER_ADDR="+s.grpc["ledger"],
		"ABACUS_HISTORY_ADDR="+s.grpc["history"],
	)
	env = append(env, o.extraEnv...)

	for _, p := range procs[:3] {
		say("migrating %s", p.name)
		cmd := exec.CommandContext(ctx, filepath.Join(o.binDir, p.name), "migrate")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("migrate %s: %w\n%s", p.name, err, out)
		}
	}

	s.stops = append(s.stops, func() { stopAll(procs, say) })
	for _, p := range procs {
		penv := append(env[:len(env):len(env)], "ABACUS_ADMIN_ADDR="+addr(p.adminPort), "ABACUS_MIGRATE_ON_START=false")
		if p.grpcPort != 0 {
			penv = append(penv, "ABACUS_GRPC_ADDR="+addr(p.grpcPort))
		} else {
			penv = append(penv, "ABACUS_HTTP_ADDR="+addr(p.httpPort))
		}
		logPath := filepath.Join(o.dataDir, "logs", p.name+".log")
		if err := start(p, filepath.Join(o.binDir, p.name), penv, logPath); err != nil {
			return nil, err
		}
		say("started %-8s pid %d, log %s", p.name, p.cmd.Process.Pid, logPath)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, p := range procs[:3] {
		if err := waitServing(waitCtx, p, addr(p.grpcPort)); err != nil {
			return nil, fmt.Errorf("%s did not become ready: %w (see %s)", p.name, err, filepath.Join(o.dataDir, "logs", p.name+".log"))
		}
		say("%-8s gRPC health SERVING on %s", p.name, addr(p.grpcPort))
	}
	s.gateway = "http://" + addr(procs[3].httpPort)
	if err := waitHTTP(waitCtx, procs[3], s.gateway+"/healthz"); err != nil {
		return nil, fmt.Errorf("gateway did not become ready: %w (see %s)", err, filepath.Join(o.dataDir, "logs", "gateway.log"))
	}
	say("gateway  HTTP 200 on %s/healthz", s.gateway)
	return s, nil
}

// runStack is `make run`: the stack, plus a demo tenant whose credentials it
// prints and writes to DATA/demo-credentials.json. Ctrl-C stops everything;
// the data stays.
func runStack(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("abacusdev run", flag.ContinueOnError)
	binDir := fs.String("bin", "bin", "directory holding the customer, ledger, history and gateway binaries")
	dataDir := fs.String("data", ".data", "directory for the PostgreSQL cluster, logs and demo credentials")
	host := fs.String("host", "127.0.0.1", "address the processes listen on")
	gatewayPort := fs.Int("gateway-port", 8080, "gateway HTTP port (the next free port when taken)")
	pgPort := fs.Int("pg-port", 54329, "PostgreSQL port of the local cluster (the next free port when taken)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
	s, err := startStack(ctx, stackOptions{binDir: *binDir, dataDir: data, host: *host, gatewayPort: *gatewayPort, pgPort: *pgPort, say: say})
	if err != nil {
		return err
	}
	defer s.stop()

	file := filepath.Join(data, "demo-credentials.json")
	demo, err := ensureDemo(ctx, demoSetup{customerAddr: s.grpc["customer"], token: s.token, file: file, gateway: s.gateway, grpc: s.grpc})
	if err != nil {
		return fmt.Errorf("demo tenant: %w", err)
	}
	printWelcome(os.Stdout, demo, s.procs, s.addr, file)

	select {
	case <-ctx.Done():
		fmt.Println()
		say("stopping (Ctrl-C)")
		return nil
	case err := <-firstExit(s.procs):
		return err
	}
}

func start(p *process, bin string, env []string, logPath string) error {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.bin, p.env, p.logPath = bin, env, logPath
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	// Own process group: the terminal's Ctrl-C reaches only abacusdev, which
	// then stops the children in order.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	// The goroutine keeps its own channel: a restart replaces p.exited.
	cmd, exited := p.cmd, make(chan error, 1)
	p.exited = exited
	go func() {
		err := cmd.Wait()
		logFile.Close()
		exited <- err
		close(exited)
	}()
	return nil
}

// restart starts p again as it was started last, after it has exited.
func (p *process) restart() error { return start(p, p.bin, p.env, p.logPath) }

// firstExit reports the first child that exits on its own.
func firstExit(procs []*process) <-chan error {
	out := make(chan error, len(procs))
	for _, p := range procs {
		go func() {
			err, ok := <-p.exited
			if ok {
				out <- fmt.Errorf("%s exited unexpectedly: %v (see its log)", p.name, err)
			}
		}()
	}
	return out
}

// stopAll sends SIGTERM to the gateway first and the services after, waiting
// for each within its shutdown timeout before SIGKILL.
func stopAll(procs []*process, say func(string, ...any)) {
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.cmd == nil || p.cmd.Process == nil {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(25 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		say("stopped %s", p.name)
	}
}

// waitServing polls the gRPC health check until it answers SERVING. Each
// check dials afresh: a connection that failed while the process was not
// yet listening would wait out its reconnect backoff (a second or more)
// and report the process ready late.
func waitServing(ctx context.Context, p *process, target string) error {
	return poll(ctx, p, func(ctx context.Context) error {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %s", resp.GetStatus())
		}
		return nil
	})
}

// poll retries check until it succeeds, the process dies or ctx ends.
func poll(ctx context.Context, p *process, check func(context.Context) error) error {
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case err := <-p.exited:
			return fmt.Errorf("exited: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freePortFrom returns the first port from want on that can be bound.
func freePortFrom(host string, want int) int {
	for port := want; port < want+100; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return want
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
