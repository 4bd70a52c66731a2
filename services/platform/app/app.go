// Package app is the common main of the Abacus services: configuration,
// logging, database, migrations and the gRPC server, wired by hand. Each
// service's main() calls Run with its Spec.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Common is the configuration every service shares.
type Common struct {
	GRPCAddr       string `env:"ABACUS_GRPC_ADDR" flag:"grpc-addr" help:"gRPC listen address"`
	AdminAddr      string `env:"ABACUS_ADMIN_ADDR" flag:"admin-addr" help:"admin HTTP listen address (/metrics, /livez, /readyz)"`
	LogLevel       string `env:"ABACUS_LOG_LEVEL" flag:"log-level" default:"info" help:"debug, info, warn or error"`
	MigrateOnStart bool   `env:"ABACUS_MIGRATE_ON_START" flag:"migrate-on-start" default:"true" help:"apply migrations before serving"`
	DB             database.Config
	Serve          grpcserver.Config
	// Client configures the calls this service makes to the others.
	Client rpcclient.Config
}

// Deps are what a service's handlers are built from.
type Deps struct {
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Registry *prometheus.Registry
	Common   Common
}

// Spec describes one service binary.
type Spec struct {
	Name             string // also the log's service attribute
	Schema           string
	Migrations       fs.FS
	DefaultGRPCAddr  string
	DefaultAdminAddr string
	// Config, if set, points to the service's own config struct, loaded with Common.
	Config any
	// Checker builds the tenant checker; it may dial other services.
	Checker func(ctx context.Context, d Deps) (tenancy.Checker, error)
	// TenantFree lists methods that need the service token but no tenant.
	TenantFree func(fullMethod string) bool
	// Handlers builds the service's handlers and returns how to register them.
	Handlers func(ctx context.Context, d Deps) (func(s *grpc.Server), error)
	// Commands are extra subcommands (such as admin) run after migration.
	Commands map[string]func(ctx context.Context, d Deps, args []string) error
	// Stdout is where logs go; os.Stdout when nil.
	Stdout io.Writer
}

// Run is a service's main: `NAME [serve] [flags]`, `NAME migrate [flags]`,
// or one of Spec.Commands.
func Run(ctx context.Context, spec Spec, args []string) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || spec.Commands[args[0]] != nil) {
		cmd, args = args[0], args[1:]
	}
	var common Common
	cfgArgs, extra := args, []string(nil)
	if cmd != "serve" && cmd != "migrate" {
		// Extra commands own their flags after a "--".
		for i, a := range args {
			if a == "--" {
				cfgArgs, extra = args[:i], args[i+1:]
				break
			}
		}
		if extra == nil {
			cfgArgs, extra = nil, args
		}
	}
	cfgs := []any{&common}
	if spec.Config != nil {
		cfgs = append(cfgs, spec.Config)
	}
	if err := config.Load(spec.Name, cfgArgs, cfgs...); err != nil {
		return err
	}
	if common.GRPCAddr == "" {
		common.GRPCAddr = spec.DefaultGRPCAddr
	}
	if common.AdminAddr == "" {
		common.AdminAddr = spec.DefaultAdminAddr
	}
	out := spec.Stdout
	if out == nil {
		out = os.Stdout
		if cmd != "serve" && cmd != "migrate" {
			out = os.Stderr // keep stdout for the command's own output
		}
	}
	log, err := logging.New(out, spec.Name, common.LogLevel)
	if err != nil {
		return err
	}
	if cmd == "serve" {
		log.Info("starting", "config", config.String(&common))
		if spec.Config != nil {
			log.Info("service config", "config", config.String(spec.Config))
		}
	}
	pool, err := database.Open(ctx, common.DB, "abacus-"+spec.Name)
	if err != nil {
		return err
	}
	defer pool.Close()
	d := Deps{Log: log, Pool: pool, Registry: prometheus.NewRegistry(), Common: common}

	if cmd == "migrate" || (cmd == "serve" && common.MigrateOnStart) || spec.Commands[cmd] != nil {
		if err := database.Migrate(ctx, pool, spec.Schema, spec.Migrations, log); err != nil {
			return err
		}
	}
	switch cmd {
	case "migrate":
		log.Info("migrations applied", "schema", spec.Schema)
		return nil
	case "serve":
		return serve(ctx, spec, d)
	default:
		return spec.Commands[cmd](ctx, d, extra)
	}
}

func serve(ctx context.Context, spec Spec, d Deps) error {
	if d.Common.Serve.ServiceToken == "" {
		return errors.New("ABACUS_SERVICE_TOKEN is required: the token internal callers present")
	}
	checker, err := spec.Checker(ctx, d)
	if err != nil {
		return fmt.Errorf("tenant checker: %w", err)
	}
	policy := tenancy.NewPolicy(d.Common.Serve.ServiceToken, checker, spec.TenantFree)
	register, err := spec.Handlers(ctx, d)
	if err != nil {
		return err
	}
	return grpcserver.Run(ctx, grpcserver.Options{
		Name: spec.Name, GRPCAddr: d.Common.GRPCAddr, AdminAddr: d.Common.AdminAddr,
		ShutdownTimeout: d.Common.Serve.ShutdownTimeout, Log: d.Log, Policy: policy,
		Registry: d.Registry,
		Ready:    func(ctx context.Context) error { return database.Ping(ctx, d.Pool) },
		Register: register,
	})
}
