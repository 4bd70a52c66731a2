// Command ledger runs the ledger service: immutable entries, running
// balances, idempotency and the change stream.
//
//	ledger [serve] [flags]   serve gRPC (migrating first by default)
//	ledger migrate [flags]   apply migrations and exit
//	ledger help              every subcommand and setting, with defaults
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/customer/customerclient"
	"github.com/abacus-ledger/abacus/services/ledger/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// settings is the ledger's configuration.
type settings struct {
	app.Common
	GRPCAddr          string        `env:"ABACUS_GRPC_ADDR" flag:"grpc-addr" default:":9092" help:"gRPC listen address"`
	AdminAddr         string        `env:"ABACUS_ADMIN_ADDR" flag:"admin-addr" default:":9192" help:"admin HTTP listen address (/metrics, /livez, /readyz)"`
	CustomerAddr      string        `env:"ABACUS_CUSTOMER_ADDR" flag:"customer-addr" default:"127.0.0.1:9091" help:"customer service gRPC address"`
	MaxBatch          int           `env:"ABACUS_LEDGER_MAX_BATCH" flag:"max-batch" default:"512" help:"most postings one group-commit transaction holds"`
	QueueSize         int           `env:"ABACUS_LEDGER_QUEUE_SIZE" flag:"queue-size" default:"4096" help:"posting requests that may wait for the committer before callers block"`
	TxTimeout         time.Duration `env:"ABACUS_LEDGER_TX_TIMEOUT" flag:"tx-timeout" default:"30s" help:"bound of one posting transaction"`
	WatchPoll         time.Duration `env:"ABACUS_LEDGER_WATCH_POLL" flag:"watch-poll" default:"1s" help:"how often a stream watcher re-reads without a notification while the listener is down (every 30 intervals while it is up)"`
	CustomerCacheSize int           `env:"ABACUS_LEDGER_CUSTOMER_CACHE_SIZE" flag:"customer-cache-size" default:"100000" help:"customers known to exist that are cached (per tenant)"`
	CustomerCacheTTL  time.Duration `env:"ABACUS_LEDGER_CUSTOMER_CACHE_TTL" flag:"customer-cache-ttl" default:"5m" help:"how long a customer known to exist is cached"`
	Committers        int           `env:"ABACUS_LEDGER_COMMITTERS" flag:"committers" default:"1" help:"group-commit transactions under way at once (requests routed by customer); more only pays where CPU is plentiful and the database far"`
	DrainTimeout      time.Duration `env:"ABACUS_LEDGER_DRAIN_TIMEOUT" flag:"drain-timeout" default:"30s" help:"how long shutdown waits for queued postings to commit"`
}

// gcPercent is the ledger's GOGC unless the environment sets one. Its live
// heap is small (caches, the committer's queue), so the default 100 runs a
// collection every few megabytes of posting traffic: the collector was 15%
// of the ledger's CPU under posting load (pprof, 128 clients). Four times
// the live heap stays a few tens of megabytes.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledger:", err)
		os.Exit(config.ExitCode(err))
	}
}

func run(ctx context.Context, args []string) error {
	// Setup: settings, logger, database and its migrations.
	var cfg settings
	p, err := app.Setup(ctx, "ledger", migrations.FS, args, &cfg, &cfg.Common)
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

	// The one peer: the customer service answers both the tenant checks of
	// the interceptor and the ledger's customer checks.
	customerConn, err := rpcclient.Dial(cfg.CustomerAddr, cfg.Serve.ServiceToken, cfg.Client, p.Tracing.DialOptions()...)
	if err != nil {
		return err
	}
	defer customerConn.Close()

	// The parts.
	customers := customerclient.NewCached(customerclient.NewRemote(customerConn), cfg.CustomerCacheTTL, cfg.CustomerCacheSize)
	svc := ledger.NewService(store.New(pool), customers, log, ledger.Config{
		MaxBatch: cfg.MaxBatch, QueueSize: cfg.QueueSize, TxTimeout: cfg.TxTimeout, PollInterval: cfg.WatchPoll,
		Committers: cfg.Committers, Join: p.Tracing.Joiner(),
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(database.NewPoolCollector(pool))
	if err := registerMetrics(reg, svc); err != nil {
		return err
	}
	server := grpcapi.New(svc, log)

	// Background work and serving. When ctx ends the server drains its
	// calls, and the committer refuses new postings, ends every watch and
	// commits what is queued, within DrainTimeout.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			svc.Run(gctx)
		}()
		<-gctx.Done()
		select {
		case <-drained:
			log.Info("committer drained")
			return nil
		case <-time.After(cfg.DrainTimeout):
			return fmt.Errorf("queued postings did not commit within %s", cfg.DrainTimeout)
		}
	})
	g.Go(func() error {
		return grpcserver.Run(gctx, grpcserver.Options{
			Name: "ledger", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, ShutdownTimeout: cfg.Serve.ShutdownTimeout,
			Log: log, Policy: tenancy.NewPolicy(cfg.Serve.ServiceToken, customerclient.TenantChecker(customerConn), nil),
			Registry: reg, ServerOptions: p.Tracing.ServerOptions(),
			Ready:    func(ctx context.Context) error { return database.Ping(ctx, pool) },
			Register: func(s *grpc.Server) { ledgerv1.RegisterLedgerServiceServer(s, server) },
		})
	})
	return g.Wait()
}

// registerMetrics exposes the committer's counters on /metrics.
func registerMetrics(reg prometheus.Registerer, svc *ledger.Service) error {
	counter := func(name, help string, get func(ledger.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			return float64(get(svc.Stats()))
		})
	}
	for _, c := range []prometheus.Collector{
		counter("ledger_commit_transactions_total", "Group-commit transactions that wrote entries.", func(s ledger.Stats) int64 { return s.Transactions }),
		counter("ledger_commit_postings_total", "Entries written by group-commit transactions.", func(s ledger.Stats) int64 { return s.Postings }),
		counter("ledger_commit_splits_total", "Groups split after the database refused their transaction.", func(s ledger.Stats) int64 { return s.Splits }),
		counter("ledger_commit_retries_total", "Transactions run again after a deadlock or serialization failure.", func(s ledger.Stats) int64 { return s.Retries }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}
