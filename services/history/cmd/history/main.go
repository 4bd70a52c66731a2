// Command history runs the history service: the read model of balance
// history, balance at an instant and statements, fed by the ledger's
// change stream.
//
//	history [serve] [flags]   serve gRPC (migrating first by default) and project
//	history migrate [flags]   apply migrations and exit
//	history help              every subcommand and setting, with defaults
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/customer/customerclient"
	"github.com/abacus-ledger/abacus/services/history/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
	"github.com/abacus-ledger/abacus/services/history/internal/projection"
	"github.com/abacus-ledger/abacus/services/history/internal/store"
	"github.com/abacus-ledger/abacus/services/history/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(config.ExitCode(err))
	}
}

// settings is the history service's configuration.
type settings struct {
	app.Common
	GRPCAddr     string        `env:"ABACUS_GRPC_ADDR" flag:"grpc-addr" default:":9093" help:"gRPC listen address"`
	AdminAddr    string        `env:"ABACUS_ADMIN_ADDR" flag:"admin-addr" default:":9193" help:"admin HTTP listen address (/metrics, /livez, /readyz)"`
	CustomerAddr string        `env:"ABACUS_CUSTOMER_ADDR" flag:"customer-addr" default:"127.0.0.1:9091" help:"customer service gRPC address"`
	LedgerAddr   string        `env:"ABACUS_LEDGER_ADDR" flag:"ledger-addr" default:"127.0.0.1:9092" help:"ledger service gRPC address"`
	TenantPoll   time.Duration `env:"ABACUS_HISTORY_TENANT_POLL" flag:"tenant-poll" default:"3s" help:"how often the projector lists tenants"`
	BatchSize    int           `env:"ABACUS_HISTORY_BATCH_SIZE" flag:"batch-size" default:"500" help:"most entries one projection transaction applies"`
	Linger       time.Duration `env:"ABACUS_HISTORY_LINGER" flag:"linger" default:"20ms" help:"how long a projection batch waits for more entries after its first"`
}

// customerCacheTTL is how long an existing customer is remembered.
// Customers are never deleted, so a positive answer stays true; the TTL
// only bounds the memory of customers no longer asked about.
const customerCacheTTL = 10 * time.Minute

// customerCacheSize bounds the cache's memory against a flood of ids.
const customerCacheSize = 100_000

func run(ctx context.Context, args []string) error {
	// Setup: settings, logger, database and its migrations.
	var cfg settings
	p, err := app.Setup(ctx, "history", migrations.FS, args, &cfg, &cfg.Common)
	if p == nil || err != nil {
		return err
	}
	log, pool := p.Log, p.Pool
	defer p.Tracing.Shutdown()
	defer pool.Close()
	if p.Command == app.Migrate {
		return nil
	}
	if err := app.RequireServiceToken(cfg.Common); err != nil {
		return err
	}

	// The peers, each dialed once: the customer service (tenants and
	// customers) and the ledger (its change stream and head).
	customerConn, err := rpcclient.Dial(cfg.CustomerAddr, cfg.Serve.ServiceToken, cfg.Client, p.Tracing.DialOptions()...)
	if err != nil {
		return err
	}
	defer customerConn.Close()
	ledgerConn, err := rpcclient.Dial(cfg.LedgerAddr, cfg.Serve.ServiceToken, cfg.Client, p.Tracing.DialOptions()...)
	if err != nil {
		return err
	}
	defer ledgerConn.Close()

	// The parts.
	tenants := customerclient.NewTenants(customerConn)
	st := store.New(pool)
	applied := history.NewApplied()
	proj := projection.New(st, ledgerv1.NewLedgerServiceClient(ledgerConn), tenants, log,
		projection.Config{TenantPoll: cfg.TenantPoll, BatchSize: cfg.BatchSize, Linger: cfg.Linger})
	reg := prometheus.NewRegistry()
	reg.MustRegister(database.NewPoolCollector(pool))
	if err := proj.Register(reg); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	customers := customerclient.NewCached(customerclient.NewRemote(customerConn), customerCacheTTL, customerCacheSize)
	server := grpcapi.NewHistory(history.NewService(st, customers, applied, proj), log)

	// Background work (the projector, and the listener that wakes waiting
	// reads) and serving; when ctx ends, all stop, a projection batch under
	// way committing first.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		applied.Listen(gctx, st, log)
		return nil
	})
	g.Go(func() error {
		proj.Run(gctx)
		return nil
	})
	g.Go(func() error {
		return grpcserver.Run(gctx, grpcserver.Options{
			Name: "history", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, ShutdownTimeout: cfg.Serve.ShutdownTimeout,
			Log: log, Policy: tenancy.NewPolicy(cfg.Serve.ServiceToken, tenancy.NewCachedChecker(tenants, time.Minute), nil),
			Registry: reg, ServerOptions: p.Tracing.ServerOptions(),
			Ready:    func(ctx context.Context) error { return database.Ping(ctx, pool) },
			Register: func(s *grpc.Server) { historyv1.RegisterHistoryServiceServer(s, server) },
		})
	})
	return g.Wait()
}
