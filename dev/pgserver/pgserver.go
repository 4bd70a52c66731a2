// Package pgserver provisions and runs a local PostgreSQL cluster for
// development and tests: it finds (or, when allowed, installs) the
// PostgreSQL binaries, creates the cluster with initdb on first use and
// starts it on a loopback TCP port with its unix socket inside the cluster
// directory, so that several clusters can run side by side without touching
// the system-wide PostgreSQL.
package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultDatabase is the database Start creates if it does not exist yet.
const DefaultDatabase = "abacus"

// superuser is the cluster's superuser created by initdb; authentication is trust,
// which is acceptable only because the server listens on 127.0.0.1 and a
// socket directory private to the cluster.
const superuser = "app"

// Options configures Start.
type Options struct {
	// Dir holds the cluster: data in Dir/pgdata, the unix socket in Dir/run
	// and the server log in Dir/postgres.log. It is created if missing.
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// AllowInstall lets Start install PostgreSQL with apt-get when no
	// binaries are found and the process runs as root.
	AllowInstall bool
	// Throwaway turns durability off (fsync, synchronous_commit,
	// full_page_writes) for speed; only for clusters whose data may be lost.
	Throwaway bool
	// Settings are extra server settings, each "name=value", passed as
	// -c options (for example shared_preload_libraries=pg_stat_statements
	// when profiling).
	Settings []string
	// Logf receives messages about unusual steps (installing PostgreSQL,
	// changing permissions, stopping a leftover server); nil discards them.
	// Routine steps are not logged: the caller reports the result.
	Logf func(format string, args ...any)
}

// Server is a running cluster started by Start.
type Server struct {
	bin     string // directory holding initdb and pg_ctl
	dataDir string
	logFile string
	port    int
	owner   *user.User // non-nil when commands must run as postgres (we are root)
	logf    func(format string, args ...any)
	opts    []string // the server options it was started with, for Restart

	stopOnce sync.Once
	stopErr  error
}

// Start creates the cluster in o.Dir if needed and starts it, stopping first
// a server left running in o.Dir by an earlier process that was killed. It
// returns once the server accepts connections and DefaultDatabase exists.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("pgserver: Options.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := findBinDir(ctx, o.AllowInstall, logf)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dataDir: filepath.Join(dir, "pgdata"), logFile: filepath.Join(dir, "postgres.log"), logf: logf}
	sockDir := filepath.Join(dir, "run")
	// The kernel limits a socket path to 107 bytes; fail with a clear
	// message rather than postgres' "path too long" in the log.
	if len(sockDir)+len("/.s.PGSQL.65535") > 107 {
		return nil, fmt.Errorf("cluster dir %s is too long for a unix socket path; use a shorter one", dir)
	}
	if err := s.prepareDir(dir, sockDir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if out, err := s.pgCommand(ctx, "initdb", "-D", s.dataDir, "-U", superuser, "--auth=trust",
			"-E", "UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}
	if err := stopIfRunning(ctx, s); err != nil {
		return nil, err
	}
	opts := []string{"-c listen_addresses=127.0.0.1", "-k " + shellQuote(sockDir), "-c max_connections=300"}
	if o.Throwaway {
		opts = append(opts, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	for _, kv := range o.Settings {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("server setting %q: want name=value", kv)
		}
		opts = append(opts, "-c "+shellQuote(kv))
	}
	// A port picked by listening and closing can be taken by someone else
	// before postgres binds it; retry a few times in that case only.
	for attempt := 1; ; attempt++ {
		s.port = o.Port
		if s.port == 0 {
			if s.port, err = freePort(); err != nil {
				return nil, err
			}
		}
		s.opts = append([]string{"-p " + strconv.Itoa(s.port)}, opts...)
		err = s.start(ctx, s.opts)
		if err == nil {
			break
		}
		// pg_ctl may have given up (timeout, cancelled context) on a server
		// that does come up: leave nothing running behind a failed Start.
		_ = stopIfRunning(context.WithoutCancel(ctx), s)
		if o.Port != 0 || attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			return nil, err
		}
		logf("port %d was taken, retrying", s.port)
	}
	if err := s.ensureDatabase(ctx, DefaultDatabase); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// URL returns the connection URL of database on this server.
func (s *Server) URL(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, database)
}

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down (fast mode: open sessions are disconnected).
// Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		// Not tied to a caller's context: Stop usually runs after a signal
		// has cancelled it, and a server left running leaks a port.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := s.pgCommand(ctx, "pg_ctl", "stop", "-D", s.dataDir, "-m", "fast", "-w").CombinedOutput(); err != nil {
			s.stopErr = fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
		}
	})
	return s.stopErr
}

// Crash stops the server the way a crash would: pg_ctl stop -m immediate
// ends every server process at once, without a shutdown checkpoint, so the
// next start replays the WAL (crash recovery). It is for fault-injection
// runs; Restart starts the server again.
func (s *Server) Crash(ctx context.Context) error {
	if out, err := s.pgCommand(ctx, "pg_ctl", "stop", "-D", s.dataDir, "-m", "immediate", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w\n%s", err, out)
	}
	return nil
}

// Restart starts a server stopped by Crash again, on the same data
// directory, port and settings, and returns once it accepts connections.
func (s *Server) Restart(ctx context.Context) error {
	return s.start(ctx, s.opts)
}

// StopCluster stops a server running from dir (as laid out by Start) and
// reports whether one was running. It is meant for cleaning up after a
// process that started a cluster and was killed before it could stop it.
func StopCluster(ctx context.Context, dir string) (bool, error) {
	bin, err := findBinDir(ctx, false, func(string, ...any) {})
	if err != nil {
		return false, err
	}
	s := &Server{bin: bin, dataDir: filepath.Join(dir, "pgdata"), logf: func(string, ...any) {}}
	if os.Geteuid() == 0 {
		if s.owner, err = user.Lookup("postgres"); err != nil {
			return false, fmt.Errorf("look up user postgres: %w", err)
		}
	}
	if !s.running(ctx) {
		return false, nil
	}
	return true, stopIfRunning(ctx, s)
}

func (s *Server) start(ctx context.Context, opts []string) error {
	offset := fileSize(s.logFile)
	cmd := s.pgCommand(ctx, "pg_ctl", "start", "-D", s.dataDir, "-l", s.logFile, "-w", "-t", "120",
		"-o", strings.Join(opts, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\npostgres log (%s):\n%s", err, out, s.logFile, logTail(s.logFile, offset))
	}
	return nil
}

// running reports whether pg_ctl sees a live postmaster for the data dir;
// pg_ctl status exits 0 only in that case.
func (s *Server) running(ctx context.Context) bool {
	if _, err := os.Stat(filepath.Join(s.dataDir, "postmaster.pid")); err != nil {
		return false
	}
	return s.pgCommand(ctx, "pg_ctl", "status", "-D", s.dataDir).Run() == nil
}

func stopIfRunning(ctx context.Context, s *Server) error {
	if !s.running(ctx) {
		return nil
	}
	s.logf("stopping a server left running in %s", s.dataDir)
	if out, err := s.pgCommand(ctx, "pg_ctl", "stop", "-D", s.dataDir, "-m", "fast", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("stop previous server: %w\n%s", err, out)
	}
	return nil
}

// prepareDir creates the cluster directories. As root, initdb and pg_ctl
// refuse to run, so they run as the postgres user, which must own the tree
// and be able to reach it through every parent directory.
func (s *Server) prepareDir(dir, sockDir string) error {
	if err := os.MkdirAll(sockDir, 0o755); err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user to run PostgreSQL as: %w", err)
	}
	s.owner = u
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("chown cluster dir to postgres: %w", err)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("cluster dir parent: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			s.logf("chmod o+x %s so that the postgres user can reach the cluster", p)
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("make %s traversable: %w", p, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// pgCommand runs a PostgreSQL program from the bin dir, through runuser as
// the postgres user when we are root. It gets its own process group so that
// a Ctrl-C meant for our child processes does not abort it half-way.
func (s *Server) pgCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	prog := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.owner != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
		cmd.Dir = filepath.Dir(s.dataDir) // root's cwd may be closed to postgres
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (s *Server) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to new server: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
		err = nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// findBinDir locates the PostgreSQL programs: $PG_BIN, the newest
// /usr/lib/postgresql/*/bin (Debian's layout), then pg_ctl on PATH.
func findBinDir(ctx context.Context, allowInstall bool, logf func(string, ...any)) (string, error) {
	if dir := lookBinDir(); dir != "" {
		return dir, nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if !allowInstall || os.Geteuid() != 0 || aptErr != nil {
		return "", errors.New("PostgreSQL not found (no initdb/pg_ctl in $PG_BIN, /usr/lib/postgresql/*/bin or PATH): " +
			"install it (Debian/Ubuntu: apt-get install postgresql), set PG_BIN to its bin directory, " +
			"or set DATABASE_URL (TEST_DATABASE_URL for tests) to use an existing server")
	}
	logf("PostgreSQL not found, installing it with apt-get")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		if err := runLogged(ctx, logf, "apt-get", args...); err != nil {
			return "", fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	if dir := lookBinDir(); dir != "" {
		return dir, nil
	}
	return "", errors.New("PostgreSQL still not found after apt-get install postgresql; set PG_BIN")
}

func lookBinDir() string {
	ok := func(dir string) bool {
		for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PG_BIN"); dir != "" && ok(dir) {
		return dir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Numeric order by major version, so that 10 sorts after 9.6.
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if ok(dirs[i]) {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// PATH often holds symlinks (e.g. /usr/local/bin/pg_ctl); the
		// siblings we need live next to the real file.
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
	}
	return ""
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// runLogged runs a command and passes each line of its output to logf.
func runLogged(ctx context.Context, logf func(string, ...any), name string, args ...string) error {
	pr, pw := io.Pipe()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logf("%s: %s", name, sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr) // keep draining past an over-long line
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns the last lines the server logged after offset, or the last
// lines of the whole log when nothing was written since.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if offset < int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// shellQuote quotes s for the /bin/sh command line pg_ctl builds from -o.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
