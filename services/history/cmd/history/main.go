// Command history runs the history service: the read model of balance
// history, balance at an instant and statements.
//
//	history [serve] [flags]   serve gRPC (migrating first by default)
//	history migrate [flags]   apply migrations and exit
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	var cfg app.CustomerClientConfig
	return app.Run(ctx, app.Spec{
		Name:             "history",
		Schema:           "history",
		Migrations:       migrations.FS,
		DefaultGRPCAddr:  ":9093",
		DefaultAdminAddr: ":9193",
		Config:           &cfg,
		Checker:          app.RemoteChecker(&cfg),
		Handlers: func(context.Context, app.Deps) (func(*grpc.Server), error) {
			// The history RPCs arrive with the history issue; until then
			// they answer UNIMPLEMENTED behind the full tenancy checks.
			return func(s *grpc.Server) {
				historyv1.RegisterHistoryServiceServer(s, historyv1.UnimplementedHistoryServiceServer{})
			}, nil
		},
	}, args)
}
