package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// scrape gathers reg and returns each sample's value by metric name (the
// pool's metrics carry no labels).
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				got[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[mf.GetName()] = m.GetCounter().GetValue()
			default:
				t.Errorf("%s: neither a gauge nor a counter", mf.GetName())
			}
		}
	}
	return got
}

func expect(t *testing.T, when string, got map[string]float64, want map[string]float64) {
	t.Helper()
	for name, v := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: %s not exported", when, name)
		} else if g != v {
			t.Errorf("%s: %s = %v, want %v", when, name, g, v)
		}
	}
}

func TestPoolCollector(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "pool_metrics", func(context.Context, string) error { return nil })
	pool, err := database.Open(ctx, database.Config{URL: url, MaxConns: 2}, "pool-metrics-test")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	reg := prometheus.NewRegistry()
	if err := reg.Register(database.NewPoolCollector(pool)); err != nil {
		t.Fatal(err)
	}
	if got := scrape(t, reg); len(got) != 13 {
		t.Errorf("exported %d metrics, want 13: %v", len(got), got)
	}

	// Both connections in use: the pool is full, and each acquire opened one.
	var held []*pgxpool.Conn
	for range 2 {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	expect(t, "two held", scrape(t, reg), map[string]float64{
		"pgxpool_acquired_conns": 2, "pgxpool_idle_conns": 0, "pgxpool_total_conns": 2, "pgxpool_max_conns": 2,
		"pgxpool_acquires_total": 2, "pgxpool_new_conns_total": 2, "pgxpool_empty_acquires_total": 2,
		"pgxpool_canceled_acquires_total": 0,
	})

	// An acquire whose context has ended is counted as canceled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := pool.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire on a canceled context: %v", err)
	}
	for _, c := range held {
		c.Release()
	}
	// Released: both idle; a new acquire reuses one without waiting.
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "one of two held again", scrape(t, reg), map[string]float64{
		"pgxpool_acquired_conns": 1, "pgxpool_idle_conns": 1, "pgxpool_total_conns": 2,
		"pgxpool_acquires_total": 3, "pgxpool_new_conns_total": 2, "pgxpool_empty_acquires_total": 2,
		"pgxpool_canceled_acquires_total": 1,
	})
	c.Release()
	if got := scrape(t, reg); got["pgxpool_acquire_seconds_total"] <= 0 {
		t.Errorf("pgxpool_acquire_seconds_total = %v, want > 0 after three acquires", got["pgxpool_acquire_seconds_total"])
	}
}
