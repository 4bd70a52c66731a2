package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/services/platform/config"
)

// bareServerCmd is the hidden `abacusdev bench bare-server` command: the
// reference the read routes are measured against. It is no product binary
// and no benchmark of its own; the ledger benchmark starts it as a separate
// process, so that its CPU is counted apart from the load generator's.
const bareServerCmd = "bare-server"

// serveBare answers GET /balance?customerID=N with one prepared point
// select on the pgbench balances table, over a fixed set of connections
// (pgxpool's default size on a machine of up to four cores), and writes
// its listening address on stdout once it accepts connections.
func serveBare(ctx context.Context, args []string) error {
	var dbURL, listen string
	var conns int
	fs := flag.NewFlagSet("abacusdev bench "+bareServerCmd, flag.ContinueOnError)
	fs.StringVar(&dbURL, "db", "", "PostgreSQL URL")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.IntVar(&conns, "conns", 4, "database connections")
	const synopsis = `usage: abacusdev bench bare-server -db URL [flags]
  the ledger benchmark's reference: GET /balance?customerID=N answered with
  one point select on the balances table that benchmark loads for pgbench;
  prints its address once listening (the benchmark starts it)`
	if err := parseFlags(fs, args, synopsis); err != nil {
		return err
	}
	switch {
	case dbURL == "":
		return config.Usagef("bench %s: -db is required", bareServerCmd)
	case conns < 1:
		return config.Usagef("bench %s: -conns must be at least 1", bareServerCmd)
	}
	pool := make(chan *pgx.Conn, conns)
	for range conns {
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		pool <- c
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.URL.Query().Get("customerID"), 10, 32)
		if err != nil {
			http.Error(w, `{"error":"customerID must be an integer"}`, http.StatusBadRequest)
			return
		}
		c := <-pool
		var balance string
		err = c.QueryRow(r.Context(), `SELECT balance::text FROM pgbench_ledger.balances WHERE customer_id = $1 AND currency = 'USD'`, id).Scan(&balance)
		pool <- c
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			http.Error(w, `{"error":"no such customer"}`, http.StatusNotFound)
		case err != nil:
			http.Error(w, `{"error":"database"}`, http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"customerID":%d,"currency":"USD","balance":"%s"}`, id, balance)
		}
	})}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Println(ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bareServer is a started reference server process.
type bareServer struct {
	url string
	pid int
	cmd *exec.Cmd
}

// startBare starts this binary's bare-server command on dbURL and waits
// for its address.
func startBare(ctx context.Context, dbURL string) (*bareServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", bareServerCmd, "-db", dbURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &bareServer{pid: cmd.Process.Pid, cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("bare server: no address: %w", err)
	}
	b.url = "http://" + strings.TrimSpace(line)
	return b, nil
}

// stop ends the server and waits for it, killing it after a grace period.
func (b *bareServer) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
}

// procSample is CPU time per process group like cpuSample, except that
// PostgreSQL's processes are kept apart by pid ("postgres PID"), so that
// cpuDelta counts backends that start or end between two samples (pgbench's
// connections ending just after it, a pool opening one) for what they spent
// in between only.
type procSample map[string]float64

// sampleProcs samples the stack's processes, this one, extra processes by
// name, and every postgres process by pid.
func sampleProcs(s *stack, extra map[string]int) procSample {
	out := procSample{}
	for name, t := range sampleCPU(s) {
		if name != "postgres" {
			out[name] = t
		}
	}
	for name, pid := range extra {
		if t, err := procCPU(pid); err == nil {
			out[name] = t
		}
	}
	eachPostgres(func(pid int, t float64) { out["postgres "+strconv.Itoa(pid)] = t })
	return out
}

// cpuDelta is the CPU each group spent between two samples, the postgres
// pids summed into "postgres"; a process seen only in after counts from
// zero, one seen only in before is left out.
func cpuDelta(before, after procSample) cpuSample {
	out := cpuSample{}
	for key, t := range after {
		name := key
		if strings.HasPrefix(key, "postgres ") {
			name = "postgres"
		}
		out[name] += t - before[key]
	}
	return out
}
