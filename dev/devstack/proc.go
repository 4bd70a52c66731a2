package devstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Proc is one Abacus process of a stack. Its addresses stay the same
// across restarts.
type Proc struct {
	// Name is the binary's name, or binary#N for a further replica
	// ("history#2", "gateway#3").
	Name string
	// Addr is the gRPC address of a service, the HTTP address of a gateway.
	Addr      string
	AdminAddr string
	LogPath   string

	bin string
	env []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
}

// Binary is the binary's name: Name without the replica suffix.
func (p *Proc) Binary() string {
	b, _, _ := strings.Cut(p.Name, "#")
	return b
}

func (p *Proc) gateway() bool { return p.Binary() == "gateway" }

// Pid is the process id of the current run, 0 before the first.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exited receives the exit of the current run, once.
func (p *Proc) Exited() <-chan error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// Launch starts the process without waiting for it to serve; after a stop
// or a kill it starts it again, as it was started first.
func (p *Proc) Launch() error {
	logFile, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal's Ctrl-C reaches only the driver, which
	// then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	// The goroutine keeps its own channel: a relaunch replaces p.exited.
	exited := make(chan error, 1)
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logFile.Close()
		exited <- err
		close(exited)
	}()
	return nil
}

// Start launches the process and waits until it serves.
func (p *Proc) Start(ctx context.Context) error {
	if err := p.Launch(); err != nil {
		return err
	}
	return p.WaitReady(ctx)
}

// Stop ends the process with SIGTERM (a graceful stop), and with SIGKILL
// when it has not exited within grace.
func (p *Proc) Stop(grace time.Duration) { p.end(syscall.SIGTERM, grace) }

// Kill ends the process with SIGKILL: no cleanup of any kind.
func (p *Proc) Kill() { p.end(syscall.SIGKILL, time.Minute) }

func (p *Proc) end(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// WaitReady polls until this very process listens on its address and
// answers there — gRPC health SERVING for a service, 200 on /healthz for a
// gateway — and fails at once when it exits. Checking the listener's owner
// keeps another program on the port from passing for it.
func (p *Proc) WaitReady(ctx context.Context) error {
	pid, exited := p.Pid(), p.Exited()
	var last error
	for {
		last = p.check(ctx, pid)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %v; see %s)", p.Name, ctx.Err(), last, p.LogPath)
		case err := <-exited:
			return fmt.Errorf("%s exited before it was ready: %v (see %s)", p.Name, err, p.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *Proc) check(ctx context.Context, pid int) error {
	_, portStr, _ := net.SplitHostPort(p.Addr)
	port, _ := strconv.Atoi(portStr)
	if !listens(pid, port) {
		return fmt.Errorf("pid %d does not listen on %s yet", pid, p.Addr)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if p.gateway() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %s", resp.Status)
		}
		return nil
	}
	// Each check dials afresh: a connection that failed while the process
	// was not yet listening would wait out its reconnect backoff.
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
}

// Log returns the end of the process's log, at most max bytes.
func (p *Proc) Log(max int) string {
	raw, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(raw) > max {
		raw = raw[len(raw)-max:]
	}
	return string(raw)
}

// listens reports whether process pid holds a TCP socket listening on
// port, from /proc: the socket inodes among its open files against the
// kernel's table of listening sockets. Where there is no /proc it cannot
// tell and says yes.
func listens(pid, port int) bool {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return true
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			f := strings.Fields(line)
			// local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
			if len(f) < 10 || f[3] != "0A" {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if n, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(n) == port {
				inodes[f[9]] = true
			}
		}
	}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err == nil && strings.HasPrefix(link, "socket:[") && inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return true
		}
	}
	return false
}
