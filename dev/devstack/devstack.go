// Package devstack starts the whole Abacus system — customer, ledger,
// history and the gateway, each its own process — on a database it is
// given, for `abacusdev run`, `bench`, `chaos` and the end-to-end tests.
//
// Every process gets a port of its own: the ports are bound here first and
// held until the process that gets one is started, so that two processes
// are never given the same port. A process is ready when it listens on its
// port itself and answers there; whatever else answers on a port does not
// count.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Services are the service binaries, in start order; the gateway comes
// after them.
var Services = []string{"customer", "ledger", "history"}

// Ports are the first ports tried; a taken port gives way to the next free
// one. Zero picks any free port.
type Ports struct {
	// GRPC is the customer's gRPC port; the ledger and history get the next
	// ones.
	GRPC int
	// Admin is the gateway's admin port; customer, ledger and history get
	// the next ones.
	Admin   int
	Gateway int
}

// Options configure Start.
type Options struct {
	BinDir      string // holds customer, ledger, history and gateway
	LogDir      string // NAME.log for each process
	DatabaseURL string
	Host        string // default 127.0.0.1
	Ports       Ports
	Token       string // the service token; random when empty
	// Env is added to every process's environment, after the stack's own.
	Env []string
	// Only lists the binaries to start, in order (default: the services,
	// then the gateway).
	Only []string
	// Migrate runs each service's `migrate` command before any starts, and
	// starts them with ABACUS_MIGRATE_ON_START=false, all at once. Without
	// it each service migrates as it starts, and the customer service is
	// started and ready before the others.
	Migrate bool
	// StopGrace bounds a graceful stop before SIGKILL (default 25 s).
	StopGrace time.Duration
	// Say reports progress; nil is silent.
	Say func(format string, a ...any)
}

// Stack is a running system.
type Stack struct {
	Token       string
	DatabaseURL string

	o    Options
	env  []string
	mu   sync.Mutex
	proc []*Proc
}

// Start starts the processes and waits until each is ready. On error it
// stops what it started; the error names the failing process and its log.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.StopGrace == 0 {
		o.StopGrace = 25 * time.Second
	}
	if o.Say == nil {
		o.Say = func(string, ...any) {}
	}
	if len(o.Only) == 0 {
		o.Only = append(append([]string{}, Services...), "gateway")
	}
	if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{Token: o.Token, DatabaseURL: o.DatabaseURL, o: o}
	if s.Token == "" {
		s.Token = randomHex(24)
	}
	held := map[string]net.Listener{}
	defer func() {
		for _, l := range held {
			l.Close()
		}
		if err != nil {
			s.Stop()
		}
	}()
	r := reserver{host: o.Host}
	for i, name := range o.Only {
		p := &Proc{Name: name, LogPath: filepath.Join(o.LogDir, name+".log"), bin: filepath.Join(o.BinDir, name)}
		port, admin := next(o.Ports.GRPC, i), next(o.Ports.Admin, i+1)
		if name == "gateway" {
			port, admin = o.Ports.Gateway, o.Ports.Admin
		}
		if p.Addr, err = r.reserve(held, port); err != nil {
			return nil, err
		}
		if p.AdminAddr, err = r.reserve(held, admin); err != nil {
			return nil, err
		}
		s.proc = append(s.proc, p)
	}
	s.env = append(os.Environ(), "DATABASE_URL="+s.DatabaseURL, "ABACUS_SERVICE_TOKEN="+s.Token)
	for _, name := range Services {
		if p := s.Proc(name); p != nil {
			s.env = append(s.env, "ABACUS_"+strings.ToUpper(name)+"_ADDR="+p.Addr)
		}
	}
	if o.Migrate {
		s.env = append(s.env, "ABACUS_MIGRATE_ON_START=false")
	}
	s.env = append(s.env, o.Env...)
	for _, p := range s.proc {
		p.env = s.procEnv(p, nil)
	}

	if o.Migrate {
		for _, p := range s.proc {
			if p.gateway() {
				continue
			}
			o.Say("migrating %s", p.Name)
			cmd := exec.CommandContext(ctx, p.bin, "migrate")
			cmd.Env = p.env
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("migrate %s: %w\n%s", p.Name, err, out)
			}
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var started []*Proc
	for _, p := range s.proc {
		release(held, p)
		if err := p.Launch(); err != nil {
			return nil, err
		}
		o.Say("started %-8s pid %d on %s (admin %s), log %s", p.Name, p.Pid(), p.Addr, p.AdminAddr, p.LogPath)
		started = append(started, p)
		// Without a migrate step first, the others would race the customer
		// service's migrations for the log; it goes first.
		if !o.Migrate && p.Name == "customer" {
			if err := p.WaitReady(waitCtx); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range started {
		if err := p.WaitReady(waitCtx); err != nil {
			return nil, err
		}
		o.Say("%-8s ready on %s", p.Name, p.Addr)
	}
	return s, nil
}

// Add starts one more process of binary name ("history", "gateway") with
// ports of its own, in front of this stack's services, with env added
// last (so it can point it at other peers). A name already in use gets a
// replica suffix: "history#2". The process is returned, and kept for Stop,
// also when it did not become ready.
func (s *Stack) Add(ctx context.Context, name string, env ...string) (*Proc, error) {
	held := map[string]net.Listener{}
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	r := reserver{host: s.o.Host}
	p := &Proc{bin: filepath.Join(s.o.BinDir, strings.SplitN(name, "#", 2)[0])}
	var err error
	if p.Addr, err = r.reserve(held, 0); err != nil {
		return nil, err
	}
	if p.AdminAddr, err = r.reserve(held, 0); err != nil {
		return nil, err
	}
	s.mu.Lock()
	p.Name = s.freeName(name)
	p.LogPath = filepath.Join(s.o.LogDir, strings.ReplaceAll(p.Name, "#", "-")+".log")
	p.env = s.procEnv(p, env)
	s.proc = append(s.proc, p)
	s.mu.Unlock()
	release(held, p)
	return p, p.Start(ctx)
}

func (s *Stack) freeName(name string) string {
	taken := map[string]bool{}
	for _, p := range s.proc {
		taken[p.Name] = true
	}
	if !taken[name] {
		return name
	}
	base, _, _ := strings.Cut(name, "#")
	for n := 2; ; n++ {
		if c := base + "#" + strconv.Itoa(n); !taken[c] {
			return c
		}
	}
}

func (s *Stack) procEnv(p *Proc, extra []string) []string {
	env := append(s.env[:len(s.env):len(s.env)], "ABACUS_ADMIN_ADDR="+p.AdminAddr)
	if p.gateway() {
		env = append(env, "ABACUS_HTTP_ADDR="+p.Addr)
	} else {
		env = append(env, "ABACUS_GRPC_ADDR="+p.Addr)
	}
	return append(env, extra...)
}

// Procs lists the processes in start order.
func (s *Stack) Procs() []*Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Proc(nil), s.proc...)
}

// Proc returns the named process, or nil.
func (s *Stack) Proc(name string) *Proc {
	for _, p := range s.Procs() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Addr is the named process's gRPC (service) or HTTP (gateway) address.
func (s *Stack) Addr(name string) string {
	if p := s.Proc(name); p != nil {
		return p.Addr
	}
	return ""
}

// Gateway is the first gateway's base URL.
func (s *Stack) Gateway() string { return "http://" + s.Addr("gateway") }

// Stop stops every process, the last started first, each with SIGTERM and
// after the grace period SIGKILL.
func (s *Stack) Stop() {
	procs := s.Procs()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(s.o.StopGrace)
	}
}

// Logs returns the end of every process's log, at most max bytes of each.
func (s *Stack) Logs(max int) string {
	var b strings.Builder
	for _, p := range s.Procs() {
		fmt.Fprintf(&b, "--- %s (%s) ---\n%s\n", p.Name, p.LogPath, p.Log(max))
	}
	return b.String()
}

// FirstExit reports the first process that exits on its own.
func (s *Stack) FirstExit() <-chan error {
	procs := s.Procs()
	out := make(chan error, len(procs))
	for _, p := range procs {
		exited := p.Exited()
		go func() {
			if err, ok := <-exited; ok {
				out <- fmt.Errorf("%s exited unexpectedly: %v (see %s)", p.Name, err, p.LogPath)
			}
		}()
	}
	return out
}

func next(base, i int) int {
	if base == 0 {
		return 0
	}
	return base + i
}

// reserver binds ports and keeps them bound, so that each port it hands
// out is handed out once.
type reserver struct{ host string }

// reserve binds the first free port from want on (any free port for 0) and
// keeps it in held under the address it returns.
func (r reserver) reserve(held map[string]net.Listener, want int) (string, error) {
	if want != 0 {
		for port := want; port < want+100 && port < 65536; port++ {
			if l, err := net.Listen("tcp", net.JoinHostPort(r.host, strconv.Itoa(port))); err == nil {
				held[l.Addr().String()] = l
				return l.Addr().String(), nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(r.host, "0"))
	if err != nil {
		return "", fmt.Errorf("reserve a port on %s: %w", r.host, err)
	}
	held[l.Addr().String()] = l
	return l.Addr().String(), nil
}

// release closes the ports p is about to bind, just before it starts.
func release(held map[string]net.Listener, p *Proc) {
	for _, a := range []string{p.Addr, p.AdminAddr} {
		if l, ok := held[a]; ok {
			l.Close()
			delete(held, a)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
