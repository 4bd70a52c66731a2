// Command abacusdev runs developer tasks for the Abacus workspace:
//
//	abacusdev with-postgres [--data DIR] -- CMD ARGS...
//	    run CMD with TEST_DATABASE_URL pointing at a throwaway PostgreSQL
//	abacusdev run ...
//	    run the whole system locally
//	abacusdev bench [NAME [flags]]
//	    start the system on a throwaway PostgreSQL and measure it
//	abacusdev chaos [flags]
//	    post through the gateway while killing the ledger and crashing
//	    PostgreSQL, then check that nothing was lost or doubled
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  abacusdev with-postgres [--data DIR] -- CMD ARGS...
  abacusdev run [flags]
  abacusdev bench [NAME [flags]]
  abacusdev chaos [-short] [-duration D] [-clients N] [-kills N] [-interval D] [flags]`

// exitCodeError makes the process exit with code without printing anything:
// the child whose status it carries has already reported its own failure.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err == nil {
		return
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		os.Exit(ec.code)
	}
	fmt.Fprintln(os.Stderr, "abacusdev:", err)
	os.Exit(1)
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch cmd, args := args[0], args[1:]; cmd {
	case "with-postgres":
		return withPostgres(ctx, args)
	case "run":
		return runStack(ctx, args)
	case "bench":
		return runBench(ctx, args)
	case "chaos":
		return runChaos(ctx, args)
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}
