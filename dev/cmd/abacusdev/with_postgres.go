package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/abacus-ledger/abacus/dev/pgserver"
	"github.com/abacus-ledger/abacus/services/platform/config"
)

// testDatabaseEnv is the variable package pgtest reads (pgtest.EnvVar; not
// imported to keep package testing out of this binary).
const testDatabaseEnv = "TEST_DATABASE_URL"

// ownerFile, inside a cluster directory, holds the pid of the with-postgres
// process that owns the cluster, so that a later run can tell a cluster
// whose owner was killed (and clean it up) from one still in use.
const ownerFile = "abacusdev.pid"

// withPostgres implements `abacusdev with-postgres [--data DIR] -- CMD ARGS...`:
// it runs CMD with TEST_DATABASE_URL set to a throwaway PostgreSQL that is
// removed afterwards, or leaves the environment alone when it is already set.
func withPostgres(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("with-postgres", flag.ContinueOnError)
	data := fs.String("data", filepath.Join(os.TempDir(), "abacus-test"), "directory for throwaway clusters (removed afterwards when left empty)")
	const synopsis = `usage: abacusdev with-postgres [--data DIR] -- CMD ARGS...
  run CMD with TEST_DATABASE_URL pointing at a throwaway PostgreSQL cluster
  under DIR, removed afterwards; with TEST_DATABASE_URL already set, run CMD
  against that server instead`
	if err := parseFlags(fs, args, synopsis); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return &config.UsageError{Msg: "with-postgres: no command given", Usage: synopsis}
	}
	// Fail before spending seconds on a cluster the command cannot use.
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("with-postgres: %w", err)
	}
	if os.Getenv(testDatabaseEnv) != "" {
		return runChild(ctx, argv, os.Environ())
	}

	dirs, err := mkdirAll(*data)
	if err != nil {
		return fmt.Errorf("with-postgres: %w", err)
	}
	// make test's .data/test holds nothing once its cluster is gone: leave
	// it behind only when something else is in it.
	defer removeIfEmpty(dirs)
	removeOrphans(ctx, *data)
	dir, err := os.MkdirTemp(*data, "pg-")
	if err != nil {
		return fmt.Errorf("with-postgres: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("with-postgres: %w", err)
	}
	srv, err := pgserver.Start(ctx, pgserver.Options{
		Dir:          dir,
		Throwaway:    true,
		AllowInstall: true,
		Logf:         func(format string, args ...any) { fmt.Fprintf(os.Stderr, "with-postgres: "+format+"\n", args...) },
	})
	if err != nil {
		// Start may fail after the server came up (e.g. interrupted while
		// creating the database): make sure nothing is left running.
		_, _ = pgserver.StopCluster(context.WithoutCancel(ctx), dir)
		_ = os.RemoveAll(dir)
		return fmt.Errorf("with-postgres: %w", err)
	}
	fmt.Fprintf(os.Stderr, "with-postgres: PostgreSQL on 127.0.0.1:%d (throwaway, %s)\n", srv.Port(), dir)

	childErr := runChild(ctx, argv, append(os.Environ(), testDatabaseEnv+"="+srv.URL("postgres")))

	cleanupErr := srv.Stop()
	if err := os.RemoveAll(dir); err != nil && cleanupErr == nil {
		cleanupErr = err
	}
	if cleanupErr != nil {
		cleanupErr = fmt.Errorf("with-postgres: cleanup: %w", cleanupErr)
		if childErr == nil {
			return cleanupErr
		}
		fmt.Fprintln(os.Stderr, cleanupErr)
	}
	return childErr
}

// mkdirAll makes dir and its missing parents, and returns dir and the
// parents it made, deepest first: what may go again when empty.
func mkdirAll(dir string) ([]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	dirs := []string{dir}
	for d := filepath.Dir(dir); d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		dirs = append(dirs, d)
	}
	return dirs, os.MkdirAll(dir, 0o755)
}

// removeIfEmpty removes each of dirs, in order, that is empty.
func removeIfEmpty(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return // not empty (os.Remove removes no directory that has entries)
		}
	}
}

// runChild runs argv with env and the standard streams inherited, and
// returns an exitCodeError carrying its exit status when it fails.
//
// SIGINT and SIGTERM received by abacusdev are passed on to the child, and
// abacusdev waits for it to exit so that cleanup happens after it. When
// stdin is a terminal the child stays in our process group so it can use
// the terminal; Ctrl-C then reaches it directly as well, which is harmless
// (`go test` ignores a repeated interrupt). Otherwise the child gets its own
// process group and signals go to the whole group, so that a `kill` from a
// supervisor also reaches the test binaries that `go test` started.
func runChild(ctx context.Context, argv, env []string) error {
	if err := ctx.Err(); err != nil {
		return err // interrupted before the command started
	}
	interactive := stdinIsTerminal()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !interactive}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			target := cmd.Process.Pid
			if !interactive {
				target = -target // the child's process group
			}
			_ = syscall.Kill(target, sig.(syscall.Signal))
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				return err
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return exitCodeError{128 + int(ws.Signal())} // the shell convention
			}
			return exitCodeError{ee.ExitCode()}
		}
	}
}

// stdinIsTerminal reports whether stdin is a character device other than
// /dev/null, which in practice means a terminal.
func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// removeOrphans stops and deletes clusters under data whose with-postgres
// process died without cleaning up (killed with SIGKILL, machine crash):
// their postmaster would otherwise keep running and holding memory and a
// port. Failures are reported and otherwise ignored.
func removeOrphans(ctx context.Context, data string) {
	dirs, _ := filepath.Glob(filepath.Join(data, "pg-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or its owner has not written the file yet
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = pgserver.StopCluster(ctx, dir)
		cancel()
		if err == nil {
			err = os.RemoveAll(dir)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "with-postgres: removing orphaned cluster %s: %v\n", dir, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "with-postgres: removed cluster %s left by a killed run\n", dir)
	}
}

// processAlive reports whether pid exists; EPERM means it exists but
// belongs to another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
