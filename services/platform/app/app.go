// Package app is what the services' mains share, as plain functions each
// main calls at the top of its straight line: the configuration every
// service reads, the subcommand a binary was asked to run, the logger, and
// the database with its migrations.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tracing"
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
	// Tracing is off unless an OTLP endpoint is set.
	Tracing tracing.Config
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

// Subcommand is a subcommand a service binary has beside serve and
// migrate, such as the customer binary's admin.
type Subcommand struct {
	Name    string
	Args    string // what follows the name in the usage line, e.g. "tenant|credential ..."
	Summary string // one line for the binary's help
	// Parse checks the subcommand's own arguments before anything
	// connects: it returns flag.ErrHelp once it has printed its help, and a
	// *config.UsageError for a command line it cannot run. The subcommand
	// keeps what it parsed for when it runs.
	Parse func(args []string) error
}

// Process is a service binary set up: the subcommand it runs, its logger
// and its database.
type Process struct {
	Command     string   // Serve, Migrate or an extra subcommand
	CommandArgs []string // an extra subcommand's own arguments
	Log         *slog.Logger
	Pool        *pgxpool.Pool // the caller closes it
	// Tracing is nil (off) unless serving with an OTLP endpoint set; its
	// hooks go to the server, the dials and nothing else. The caller shuts
	// it down last, to export the spans still buffered.
	Tracing *tracing.Tracing
}

// Setup is the start every service's main shares, in this order: it
// splits the subcommand off args, loads cfg (the service's settings, which
// embed the Common that common points to), lets an extra subcommand parse
// its own arguments, makes the logger (to stderr for an extra subcommand,
// whose output is stdout), logs the settings when serving, opens the
// database, and applies the migrations for migrate, for an extra
// subcommand, and for serve unless MigrateOnStart is off. The schema is
// named after the service.
//
// Everything before the database opens reads only the command line and the
// environment: help (-h, --help, help, after any subcommand) is printed to
// stdout and Setup returns nil and no error; an unknown command or flag is
// a *config.UsageError that names it.
func Setup(ctx context.Context, name string, migrations fs.FS, args []string, cfg any, common *Common, extra ...Subcommand) (*Process, error) {
	names := make([]string, 0, len(extra))
	for _, e := range extra {
		names = append(names, e.Name)
	}
	cmd, configArgs, commandArgs := Command(args, names...)
	if cmd == Serve && len(args) > 0 && args[0] != Serve && args[0] != "help" && !strings.HasPrefix(args[0], "-") {
		all := append([]string{Serve, Migrate}, names...)
		return nil, config.Usagef("unknown command %q; the commands are %s (%s --help)", args[0], strings.Join(all, ", "), name)
	}
	if err := config.Load(name, configArgs, cfg); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, PrintUsage(os.Stdout, name, cfg, extra...)
		}
		return nil, err
	}
	for _, e := range extra {
		if e.Name == cmd && e.Parse != nil {
			if err := e.Parse(commandArgs); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil, nil
				}
				return nil, err
			}
		}
	}
	out := os.Stdout
	if cmd != Serve && cmd != Migrate {
		out = os.Stderr
	}
	// Only a serving process traces: the one if that decides what is
	// installed on its hot paths.
	var tr *tracing.Tracing
	if cmd == Serve {
		var err error
		if tr, err = tracing.Setup(ctx, common.Tracing, name, tracing.Inner); err != nil {
			return nil, err
		}
	}
	log, err := logging.New(out, name, common.LogLevel, tr.LogOptions()...)
	if err != nil {
		return nil, errors.Join(err, tr.Shutdown())
	}
	tr.LogErrors(log)
	if cmd == Serve {
		log.Info("starting", "config", config.String(cfg))
	}
	var dbOpts []database.Option
	if d := tr.Database(); d != nil {
		dbOpts = append(dbOpts, database.WithTracer(d))
	}
	pool, err := database.Open(ctx, common.DB, "abacus-"+name, dbOpts...)
	if err != nil {
		return nil, errors.Join(err, tr.Shutdown())
	}
	if cmd != Serve || common.MigrateOnStart {
		if err := database.Migrate(ctx, pool, name, migrations, log); err != nil {
			pool.Close()
			return nil, errors.Join(err, tr.Shutdown())
		}
		if cmd == Migrate {
			log.Info("migrations applied", "schema", name)
		}
	}
	return &Process{Command: cmd, CommandArgs: commandArgs, Log: log, Pool: pool, Tracing: tr}, nil
}

// PrintUsage writes a service binary's help: its subcommands, then every
// setting of cfg with its flag, environment variable and default.
func PrintUsage(w io.Writer, name string, cfg any, extra ...Subcommand) error {
	fmt.Fprintf(w, "usage:\n  %s [serve] [flags]\n      serve gRPC and the admin port (/metrics, /livez, /readyz), after applying\n      the migrations unless -migrate-on-start=false\n", name)
	fmt.Fprintf(w, "  %s migrate [flags]\n      apply the migrations to the database and exit\n", name)
	for _, e := range extra {
		fmt.Fprintf(w, "  %s %s [flags --] %s\n      %s (%s %s --help)\n", name, e.Name, e.Args, e.Summary, name, e.Name)
	}
	fmt.Fprintf(w, "  %s help\n      this help (also -h or --help, after any command)\n\n", name)
	return config.PrintSettings(w, cfg)
}

// RequireServiceToken refuses to serve without the token internal callers
// present.
func RequireServiceToken(c Common) error {
	if c.Serve.ServiceToken == "" {
		return errors.New("ABACUS_SERVICE_TOKEN is required: the token internal callers present")
	}
	return nil
}
