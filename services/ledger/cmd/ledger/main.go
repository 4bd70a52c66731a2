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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/customerdir"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// config is the ledger's own configuration, loaded with app.Common.
type config struct {
	app.CustomerClientConfig
	MaxBatch          int           `env:"ABACUS_LEDGER_MAX_BATCH" flag:"max-batch" default:"512" help:"most postings one group-commit transaction holds"`
	QueueSize         int           `env:"ABACUS_LEDGER_QUEUE_SIZE" flag:"queue-size" default:"4096" help:"posting requests that may wait for the committer before callers block"`
	TxTimeout         time.Duration `env:"ABACUS_LEDGER_TX_TIMEOUT" flag:"tx-timeout" default:"30s" help:"bound of one posting transaction"`
	WatchPoll         time.Duration `env:"ABACUS_LEDGER_WATCH_POLL" flag:"watch-poll" default:"1s" help:"how often a stream watcher re-reads without a notification while the listener is down (every 30 intervals while it is up)"`
	CustomerCacheSize int           `env:"ABACUS_LEDGER_CUSTOMER_CACHE_SIZE" flag:"customer-cache-size" default:"100000" help:"customers known to exist that are cached (per tenant)"`
	CustomerCacheTTL  time.Duration `env:"ABACUS_LEDGER_CUSTOMER_CACHE_TTL" flag:"customer-cache-ttl" default:"5m" help:"how long a customer known to exist is cached"`
	Committers        int           `env:"ABACUS_LEDGER_COMMITTERS" flag:"committers" default:"1" help:"group-commit transactions under way at once (requests routed by customer); more only pays where CPU is plentiful and the database far"`
	DrainTimeout      time.Duration `env:"ABACUS_LEDGER_DRAIN_TIMEOUT" flag:"drain-timeout" default:"30s" help:"how long shutdown waits for queued postings to commit"`
}

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
	var cfg config
	// One connection to the customer service serves both the tenant checks
	// of the interceptor and the ledger's customer checks.
	var customerConn *grpc.ClientConn
	drained := make(chan struct{})
	started := false
	err := app.Run(ctx, app.Spec{
		Name:             "ledger",
		Schema:           "ledger",
		Migrations:       migrations.FS,
		DefaultGRPCAddr:  ":9092",
		DefaultAdminAddr: ":9192",
		Config:           &cfg,
		Checker: func(ctx context.Context, d app.Deps) (tenancy.Checker, error) {
			conn, err := rpcclient.Dial(cfg.CustomerAddr, d.Common.Serve.ServiceToken, d.Common.Client)
			if err != nil {
				return nil, err
			}
			customerConn = conn
			return app.RemoteTenants(conn), nil
		},
		Handlers: func(ctx context.Context, d app.Deps) (func(*grpc.Server), error) {
			customers := customerdir.NewCached(customerdir.NewRemote(customerConn), cfg.CustomerCacheTTL, cfg.CustomerCacheSize)
			svc := ledger.NewService(store.New(d.Pool), customers, d.Log, ledger.Config{
				MaxBatch: cfg.MaxBatch, QueueSize: cfg.QueueSize, TxTimeout: cfg.TxTimeout, PollInterval: cfg.WatchPoll,
				Committers: cfg.Committers,
			})
			if err := registerMetrics(d.Registry, svc); err != nil {
				return nil, err
			}
			// ctx ends when the server starts shutting down: the service then
			// refuses new postings, ends every watch and commits what is queued.
			started = true
			go func() {
				defer close(drained)
				svc.Run(ctx)
				d.Log.Info("committer drained")
			}()
			server := grpcapi.New(svc, d.Log)
			return func(s *grpc.Server) { ledgerv1.RegisterLedgerServiceServer(s, server) }, nil
		},
	}, args)
	if started {
		select {
		case <-drained:
		case <-time.After(cfg.DrainTimeout):
			fmt.Fprintln(os.Stderr, "ledger: queued postings did not commit in", cfg.DrainTimeout)
		}
	}
	if customerConn != nil {
		customerConn.Close()
	}
	return err
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
