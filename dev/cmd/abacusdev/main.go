// Command abacusdev runs developer tasks for the Abacus workspace:
//
//	abacusdev with-postgres [--data DIR] -- CMD ARGS...
//	    run CMD with TEST_DATABASE_URL pointing at a throwaway PostgreSQL
//	abacusdev run [flags]
//	    run the whole system locally
//	abacusdev bench [NAME] [flags]
//	    start the system on a throwaway PostgreSQL and measure it
//	abacusdev chaos [flags]
//	    post through the gateway while killing the ledger and crashing
//	    PostgreSQL, then check that nothing was lost or doubled
//	abacusdev env [--data DIR]
//	    print the demo of a make run as shell variables
//	abacusdev help [COMMAND]
//	    the commands, or one command's flags with their defaults
//
// Every command answers -h, --help or help before it starts anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/abacus-ledger/abacus/services/platform/config"
)

// command is one `abacusdev COMMAND`.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string) error
}

// commands are abacusdev's commands, in the order its help lists them.
var commands = []command{
	{"with-postgres", "[--data DIR] -- CMD ARGS...", "run CMD with TEST_DATABASE_URL pointing at a throwaway PostgreSQL (what make test does)", withPostgres},
	{"run", "[flags]", "run the whole system on a local PostgreSQL, with a demo tenant (what make run does)", runStack},
	{"bench", "[NAME] [flags]", "start the system on a throwaway PostgreSQL and measure it; no NAME runs every benchmark (abacusdev bench help lists them)", runBench},
	{"chaos", "[flags]", "post through the gateway while killing the ledger and crashing PostgreSQL, then check that nothing was lost or doubled", runChaos},
	{"env", "[--data DIR]", "print the demo of a make run (endpoints, service token, database, credentials) as shell variables: eval \"$(bin/abacusdev env)\"", runEnv},
}

// usage is abacusdev's help.
func usage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  abacusdev %s %s\n      %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("  abacusdev help [COMMAND]\n      this help, or COMMAND's flags with their defaults (also COMMAND -h or --help)\n")
	return b.String()
}

// exitCodeError makes the process exit with code without printing anything:
// the child whose status it carries has already reported its own failure.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

// exitCode reports err on w, unless a child already did or it is a help
// request, and returns the process status for it.
func exitCode(w io.Writer, err error) int {
	// A command line abacusdev cannot run is a *config.UsageError, as in
	// the services' binaries: status 2, as the flag package exits.
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	code := config.ExitCode(err)
	if code != 0 {
		fmt.Fprintln(w, "abacusdev:", err)
	}
	return code
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return &config.UsageError{Msg: "a command is required", Usage: usage()}
	}
	name, args := args[0], args[1:]
	if isHelp(name) {
		if len(args) == 0 || isHelp(args[0]) {
			fmt.Print(usage())
			return flag.ErrHelp
		}
		// help COMMAND [NAME]: the command's own help.
		name, args = args[0], append(args[1:], "-h")
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, args)
		}
	}
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	return config.Usagef("unknown command %q; the commands are %s (abacusdev help)", name, strings.Join(names, ", "))
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// parseFlags parses args into fs. Asked for help, it prints synopsis and
// fs's flags with their defaults to stdout and returns flag.ErrHelp; a
// flag it does not know or cannot parse is a *config.UsageError naming it.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 && fs.Arg(0) == "help" {
		err = flag.ErrHelp
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Println(strings.TrimRight(synopsis, "\n"))
		fmt.Println("\nflags:")
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return flag.ErrHelp
	case err != nil:
		name := strings.TrimPrefix(fs.Name(), "abacusdev ")
		return config.Usagef("%s: %v (abacusdev %s -h lists the flags)", name, err, name)
	}
	return nil
}
