// Command customer runs the customer service: tenants, credentials,
// customers and extended records.
//
//	customer [serve] [flags]     serve gRPC (migrating first by default)
//	customer migrate [flags]     apply migrations and exit
//	customer admin ...           administer tenants and credentials
//	customer help                every subcommand and setting, with defaults
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

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/pglisten"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "customer:", err)
		os.Exit(config.ExitCode(err))
	}
}

// settings is the customer service's configuration.
type settings struct {
	app.Common
	GRPCAddr  string `env:"ABACUS_GRPC_ADDR" flag:"grpc-addr" default:":9091" help:"gRPC listen address"`
	AdminAddr string `env:"ABACUS_ADMIN_ADDR" flag:"admin-addr" default:":9191" help:"admin HTTP listen address (/metrics, /livez, /readyz)"`
	// MagentoSessionTTL is Magento's own default session lifetime.
	MagentoSessionTTL time.Duration `env:"ABACUS_MAGENTO_SESSION_TTL" flag:"magento-session-ttl" default:"1h" help:"how long a Magento SOAP session may stay unused before it expires (> 0)"`
	// AuthCacheFor and AuthCacheTrust: see tenant.CacheCredentials.
	AuthCacheFor   time.Duration `env:"ABACUS_AUTH_CACHE_FOR" flag:"auth-cache-for" default:"5m" help:"how long a gateway may reuse a verified credential while its change stream is up; 0 tells gateways not to cache"`
	AuthCacheTrust time.Duration `env:"ABACUS_AUTH_CACHE_TRUST" flag:"auth-cache-trust" default:"1s" help:"how long a gateway may trust its credential cache after an ack of the change stream; a revoke waits at most twice this for a silent gateway (> 0)"`
}

// adminName is the subcommand that administers tenants and credentials.
const adminName = "admin"

func run(ctx context.Context, args []string) error {
	// Setup: settings, logger, database and its migrations. The admin
	// command keeps stdout for its own output.
	var cfg settings
	var adminCmd adminCommand
	p, err := app.Setup(ctx, "customer", migrations.FS, args, &cfg, &cfg.Common, app.Subcommand{
		Name: adminName, Args: "tenant|credential ...", Summary: "administer tenants and credentials", Parse: adminCmd.parse,
	})
	if p == nil || err != nil {
		return err
	}
	log, pool := p.Log, p.Pool
	defer p.Tracing.Shutdown()
	defer pool.Close()
	if cfg.MagentoSessionTTL <= 0 {
		return fmt.Errorf("ABACUS_MAGENTO_SESSION_TTL must be a positive duration such as 1h, not %s", cfg.MagentoSessionTTL)
	}
	if cfg.AuthCacheFor < 0 || cfg.AuthCacheTrust <= 0 {
		return fmt.Errorf("ABACUS_AUTH_CACHE_FOR must not be negative and ABACUS_AUTH_CACHE_TRUST must be positive, not %s and %s", cfg.AuthCacheFor, cfg.AuthCacheTrust)
	}
	st := store.New(pool)
	tenants := tenant.NewService(st, cfg.MagentoSessionTTL)
	tenants.CacheCredentials(cfg.AuthCacheFor, cfg.AuthCacheTrust)
	switch p.Command {
	case app.Migrate:
		return nil
	case adminName:
		return adminCmd.run(ctx, tenants, os.Stdout)
	}
	if err := app.RequireServiceToken(cfg.Common); err != nil {
		return err
	}

	// The parts; the customer service has no peers: it owns the tenants the
	// others ask it about.
	admin := grpcapi.NewTenantAdmin(tenants, log)
	customers := grpcapi.NewCustomers(customer.NewService(st), log)

	// Background work: expired Magento sessions already fail to
	// authenticate; the janitor reclaims their rows. It stops with the
	// server.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go tenants.RunSessionJanitor(ctx, log, min(cfg.MagentoSessionTTL, time.Minute))
	// Each credential change nudges the gateways this replica streams to,
	// so they ack it at once and the revoke waiting for them returns. A
	// nudge after every reconnection covers the notifications missed.
	watchers := tenants.Watchers()
	go pglisten.Run(ctx, pool, store.ChangesChannel, "credential change listener", log, pglisten.Handler{
		Listening: watchers.Nudge,
		Notified:  func(string) { watchers.Nudge() },
	})
	go func() {
		<-ctx.Done()
		watchers.Close()
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(database.NewPoolCollector(pool))
	return grpcserver.Run(ctx, grpcserver.Options{
		Name: "customer", GRPCAddr: cfg.GRPCAddr, AdminAddr: cfg.AdminAddr, ShutdownTimeout: cfg.Serve.ShutdownTimeout,
		Log: log, Policy: tenancy.NewPolicy(cfg.Serve.ServiceToken, tenants, grpcapi.TenantFree),
		Registry: reg, ServerOptions: p.Tracing.ServerOptions(),
		Ready: func(ctx context.Context) error { return database.Ping(ctx, pool) },
		Register: func(s *grpc.Server) {
			customerv1.RegisterTenantAdminServiceServer(s, admin)
			customerv1.RegisterCustomerServiceServer(s, customers)
		},
	})
}
