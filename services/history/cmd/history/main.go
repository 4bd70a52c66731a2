// Command history runs the history service: the read model of balance
// history, balance at an instant and statements, fed by the ledger's
// change stream.
//
//	history [serve] [flags]   serve gRPC (migrating first by default) and project
//	history migrate [flags]   apply migrations and exit
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/projection"
	"github.com/abacus-ledger/abacus/services/history/internal/remote"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/customerdir"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
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

// config is the history service's own configuration.
type config struct {
	app.CustomerClientConfig
	LedgerAddr string        `env:"ABACUS_LEDGER_ADDR" flag:"ledger-addr" default:"127.0.0.1:9092" help:"ledger service gRPC address"`
	TenantPoll time.Duration `env:"ABACUS_HISTORY_TENANT_POLL" flag:"tenant-poll" default:"3s" help:"how often the projector lists tenants"`
	BatchSize  int           `env:"ABACUS_HISTORY_BATCH_SIZE" flag:"batch-size" default:"500" help:"most entries one projection transaction applies"`
	Linger     time.Duration `env:"ABACUS_HISTORY_LINGER" flag:"linger" default:"20ms" help:"how long a projection batch waits for more entries after its first"`
}

// customerCacheTTL is how long an existing customer is remembered.
// Customers are never deleted, so a positive answer stays true; the TTL
// only bounds the memory of customers no longer asked about.
const customerCacheTTL = 10 * time.Minute

// customerCacheSize bounds the cache's memory against a flood of ids.
const customerCacheSize = 100_000

func run(ctx context.Context, args []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cfg config
	// The projector and the notification listener run beside the gRPC
	// server; run waits for them after it, so a stop is clean.
	var background sync.WaitGroup
	defer background.Wait()
	defer cancel()
	return app.Run(ctx, app.Spec{
		Name:             "history",
		Schema:           "history",
		Migrations:       migrations.FS,
		DefaultGRPCAddr:  ":9093",
		DefaultAdminAddr: ":9193",
		Config:           &cfg,
		Checker:          app.RemoteChecker(&cfg.CustomerClientConfig),
		Handlers: func(ctx context.Context, d app.Deps) (func(*grpc.Server), error) {
			token := d.Common.Serve.ServiceToken
			customerConn, err := rpcclient.Dial(cfg.CustomerAddr, token, d.Common.Client)
			if err != nil {
				return nil, err
			}
			ledgerConn, err := rpcclient.Dial(cfg.LedgerAddr, token, d.Common.Client)
			if err != nil {
				customerConn.Close()
				return nil, err
			}
			st := store.New(d.Pool)
			applied := history.NewApplied()
			proj := projection.New(st, ledgerv1.NewLedgerServiceClient(ledgerConn),
				remote.Tenants{Client: customerv1.NewTenantAdminServiceClient(customerConn)}, d.Log,
				projection.Config{TenantPoll: cfg.TenantPoll, BatchSize: cfg.BatchSize, Linger: cfg.Linger})
			if err := proj.Register(d.Registry); err != nil {
				customerConn.Close()
				ledgerConn.Close()
				return nil, fmt.Errorf("register metrics: %w", err)
			}
			background.Go(func() { applied.Listen(ctx, st, d.Log) })
			background.Go(func() {
				proj.Run(ctx)
				ledgerConn.Close()
			})
			context.AfterFunc(ctx, func() { customerConn.Close() })
			customers := customerdir.NewCached(customerdir.NewRemote(customerConn), customerCacheTTL, customerCacheSize)
			srv := grpcapi.NewHistory(history.NewService(st, customers, applied, proj), d.Log)
			return func(s *grpc.Server) {
				historyv1.RegisterHistoryServiceServer(s, srv)
			}, nil
		},
	}, args)
}
