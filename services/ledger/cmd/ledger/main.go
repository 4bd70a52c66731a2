// Command ledger runs the ledger service: immutable entries, running
// balances, idempotency and the change stream.
//
//	ledger [serve] [flags]   serve gRPC (migrating first by default)
//	ledger migrate [flags]   apply migrations and exit
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledger:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	var cfg app.CustomerClientConfig
	return app.Run(ctx, app.Spec{
		Name:             "ledger",
		Schema:           "ledger",
		Migrations:       migrations.FS,
		DefaultGRPCAddr:  ":9092",
		DefaultAdminAddr: ":9192",
		Config:           &cfg,
		Checker:          app.RemoteChecker(&cfg),
		Handlers: func(context.Context, app.Deps) (func(*grpc.Server), error) {
			// The ledger's RPCs arrive with the ledger issue; until then
			// they answer UNIMPLEMENTED behind the full tenancy checks.
			return func(s *grpc.Server) {
				ledgerv1.RegisterLedgerServiceServer(s, ledgerv1.UnimplementedLedgerServiceServer{})
			}, nil
		},
	}, args)
}
