// Package database opens the PostgreSQL pool every service uses and applies
// a service's embedded migrations.
package database

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Config is the database section of every service's configuration.
type Config struct {
	URL      string `env:"DATABASE_URL" flag:"database-url" secret:"true" help:"PostgreSQL URL (libpq form); empty uses the PG* variables"`
	MaxConns int    `env:"ABACUS_DB_MAX_CONNS" flag:"db-max-conns" default:"16" help:"pool size"`
}

// Option changes how Open sets up the pool.
type Option func(*pgxpool.Config)

// WithTracer installs t on every connection of the pool (tracing; see the
// tracing package). A t that also has ConnClosed(*pgx.Conn) is told of each
// connection the pool closes. Without this option no tracer is installed.
func WithTracer(t pgx.QueryTracer) Option {
	return func(pc *pgxpool.Config) {
		pc.ConnConfig.Tracer = t
		if c, ok := t.(interface{ ConnClosed(*pgx.Conn) }); ok {
			pc.BeforeClose = c.ConnClosed
		}
	}
}

// Open connects a pool whose connections know shopspring decimals, so
// NUMERIC columns scan into decimal.Decimal without passing through float.
func Open(ctx context.Context, cfg Config, application string, opts ...Option) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = int32(cfg.MaxConns)
	}
	pc.ConnConfig.RuntimeParams["application_name"] = application
	// Statements are prepared once per connection and, after a few runs,
	// use PostgreSQL's cached generic plan: planning every execution
	// (plan_cache_mode=force_custom_plan) was measured costing more than
	// executing for most of the services' statements, foreign-key checks
	// included. Statements over arrays (unnest), whose sizes a generic
	// plan cannot see, are written so that their only sensible plan probes
	// an index per element (a LATERAL or scalar subquery), never a scan.
	pc.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		pgxdecimal.Register(c.TypeMap())
		return nil
	}
	for _, o := range opts {
		o(pc)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return pool, nil
}

// Migrate applies the numbered SQL files of migrations to schema, recording
// them in schema.goose_db_version. A Postgres advisory lock keyed on the
// schema makes concurrent replicas wait for one another instead of racing.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, migrations fs.FS, log *slog.Logger) error {
	if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	h := fnv.New64a()
	h.Write([]byte("abacus-migrate-" + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64() >> 1)))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations,
		goose.WithTableName(schema+".goose_db_version"),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations of %s: %w", schema, err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", "schema", schema, "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	return nil
}

// Ping is the readiness check: the database answers a query.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	var one int
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database ping: %w", err)
	}
	return nil
}
