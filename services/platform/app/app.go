// Package app is what the services' mains share, as plain functions each
// main calls in its own order: the configuration every service reads, the
// subcommand a binary was asked to run, and opening the database with its
// migrations.
package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
)

// Common is the configuration every service reads, beside its own (each
// service names its listen addresses, whose defaults differ).
type Common struct {
	LogLevel       string `env:"ABACUS_LOG_LEVEL" flag:"log-level" default:"info" help:"debug, info, warn or error"`
	MigrateOnStart bool   `env:"ABACUS_MIGRATE_ON_START" flag:"migrate-on-start" default:"true" help:"apply migrations before serving"`
	DB             database.Config
	Serve          grpcserver.Config
	// Client configures the calls this service makes to the others.
	Client rpcclient.Config
}

// The subcommands every service binary has.
const (
	Serve   = "serve"
	Migrate = "migrate"
)

// Command splits a binary's arguments into its subcommand — serve (the
// default), migrate, or one of extra — the arguments its configuration
// reads, and, for an extra subcommand, the arguments of its own: those
// after a "--", or all of them when there is none.
func Command(args []string, extra ...string) (cmd string, configArgs, commandArgs []string) {
	cmd = Serve
	if len(args) > 0 {
		switch a := args[0]; {
		case a == Serve || a == Migrate:
			cmd, args = a, args[1:]
		default:
			for _, e := range extra {
				if a == e {
					cmd, args = a, args[1:]
				}
			}
		}
	}
	if cmd == Serve || cmd == Migrate {
		return cmd, args, nil
	}
	for i, a := range args {
		if a == "--" {
			return cmd, args[:i], args[i+1:]
		}
	}
	return cmd, nil, args
}

// OpenDatabase connects to the service's database and applies its
// migrations when migrate is true.
func OpenDatabase(ctx context.Context, log *slog.Logger, c Common, name, schema string, migrations fs.FS, migrate bool) (*pgxpool.Pool, error) {
	pool, err := database.Open(ctx, c.DB, "abacus-"+name)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := database.Migrate(ctx, pool, schema, migrations, log); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

// RequireServiceToken refuses to serve without the token internal callers
// present.
func RequireServiceToken(c Common) error {
	if c.Serve.ServiceToken == "" {
		return errors.New("ABACUS_SERVICE_TOKEN is required: the token internal callers present")
	}
	return nil
}
