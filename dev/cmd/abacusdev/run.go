package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/abacus-ledger/abacus/dev/devstack"
	"github.com/abacus-ledger/abacus/dev/pgserver"
)

// stackOptions configure startStack.
type stackOptions struct {
	binDir, dataDir, host string
	ports                 devstack.Ports
	pgPort                int
	// extraEnv is added to every process's environment.
	extraEnv []string
	say      func(format string, a ...any)
}

// stack is a running system: PostgreSQL and the four processes.
type stack struct {
	*devstack.Stack
	token, dbURL, gateway string
	grpc                  map[string]string
	stops                 []func()
	pg                    *pgserver.Server // nil when DATABASE_URL names the server
}

// stop stops the processes, then PostgreSQL.
func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// startStack starts PostgreSQL (under DATA/pg, or DATABASE_URL), then the
// system with devstack (migrations first). On error it stops what it
// started.
func startStack(ctx context.Context, o stackOptions) (_ *stack, err error) {
	say := o.say
	s := &stack{}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	s.dbURL = os.Getenv("DATABASE_URL")
	if s.dbURL != "" {
		say("using DATABASE_URL from the environment")
	} else {
		say("starting PostgreSQL in %s", filepath.Join(o.dataDir, "pg"))
		srv, err := pgserver.Start(ctx, pgserver.Options{
			Dir: filepath.Join(o.dataDir, "pg"), Port: freePortFrom(o.pgPort), AllowInstall: true,
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

	sys, err := devstack.Start(ctx, devstack.Options{
		BinDir: o.binDir, LogDir: filepath.Join(o.dataDir, "logs"), DatabaseURL: s.dbURL,
		Host: o.host, Ports: o.ports, Env: o.extraEnv, Migrate: true, Say: say,
	})
	if err != nil {
		return nil, err
	}
	s.Stack = sys
	s.stops = append(s.stops, func() { sys.Stop(); say("stopped the processes") })
	s.token, s.gateway = sys.Token, sys.Gateway()
	s.grpc = map[string]string{}
	for _, name := range devstack.Services {
		s.grpc[name] = sys.Addr(name)
	}
	return s, nil
}

const runSynopsis = `usage: abacusdev run [flags]
  start PostgreSQL under -data (or use DATABASE_URL when set), then the
  customer, ledger, history and gateway binaries found in -bin (it builds
  nothing: make run builds them first), and a demo tenant; Ctrl-C stops them`

// runStack is `make run`: the stack, plus a demo tenant whose credentials it
// prints and writes to DATA/demo-credentials.json. Ctrl-C stops everything;
// the data stays.
func runStack(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("abacusdev run", flag.ContinueOnError)
	binDir := fs.String("bin", "bin", "directory holding the customer, ledger, history and gateway binaries")
	dataDir := fs.String("data", ".data", "directory for the PostgreSQL cluster, logs and demo credentials")
	host := fs.String("host", "127.0.0.1", "address the processes listen on")
	var ports devstack.Ports
	fs.IntVar(&ports.Gateway, "gateway-port", 8080, "gateway HTTP port (the next free port when taken)")
	fs.IntVar(&ports.GRPC, "grpc-port", 9091, "customer gRPC port; ledger and history take the next free ones")
	fs.IntVar(&ports.Admin, "admin-port", 9190, "gateway admin port; customer, ledger and history take the next free ones")
	pgPort := fs.Int("pg-port", 54329, "PostgreSQL port of the local cluster (the next free port when taken)")
	if err := parseFlags(fs, args, runSynopsis); err != nil {
		return err
	}
	data, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	unlock, err := lockData(data)
	if err != nil {
		return err
	}
	defer unlock()
	say := func(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
	s, err := startStack(ctx, stackOptions{binDir: *binDir, dataDir: data, host: *host, ports: ports, pgPort: *pgPort, say: say})
	if err != nil {
		return err
	}
	defer s.stop()

	if _, err := startDemo(ctx, s, data, envCommand(*binDir, data), os.Stdout, say); err != nil {
		return err
	}

	select {
	case <-ctx.Done():
		fmt.Println()
		say("stopping (Ctrl-C)")
		return nil
	case err := <-s.FirstExit():
		return err
	}
}

// lockData takes DATA/run.lock for this process, or refuses when another
// `abacusdev run` holds it: a second run would otherwise stop the first
// one's PostgreSQL as a leftover and leave it running without a database.
// The kernel drops the lock when its holder dies, however it dies.
func lockData(data string) (unlock func(), err error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(data, "run.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		raw, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another make run is using %s, pid %s; stop it first (Ctrl-C), or give this one another directory (make run DATA=...)",
				shortPath(data), strings.TrimSpace(string(raw)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// shortPath is path relative to the working directory when it lies below
// it (".data" rather than /home/.../abacus/.data).
func shortPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// freePortFrom returns the first port from want on that 127.0.0.1 can
// bind, for PostgreSQL (pg_ctl cannot be handed a bound socket; a port
// taken meanwhile makes its start fail with a clear message).
func freePortFrom(want int) int {
	for port := want; port < want+100 && port < 65536; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	return 0 // pgserver picks a free port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
