package database

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports a pool's statistics (pgxpool.Stat) at scrape time,
// under the names pgxpool_*. It holds no state of its own: every scrape
// reads one Stat, so the gauges and the counters it reports agree.
type PoolCollector struct {
	pool *pgxpool.Pool

	acquired, idle, constructing, total, max       *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires        *prometheus.Desc
	emptyAcquireWaitSeconds, canceledAcquires      *prometheus.Desc
	newConns, maxLifetimeDestroys, maxIdleDestroys *prometheus.Desc
}

// NewPoolCollector returns the collector of pool; register it with the
// process's registry (each service exports its one pool).
func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &PoolCollector{
		pool:                    pool,
		acquired:                d("pgxpool_acquired_conns", "Connections currently acquired from the pool (in use)."),
		idle:                    d("pgxpool_idle_conns", "Idle connections in the pool."),
		constructing:            d("pgxpool_constructing_conns", "Connections being opened."),
		total:                   d("pgxpool_total_conns", "Connections in the pool: acquired, idle and being opened."),
		max:                     d("pgxpool_max_conns", "Most connections the pool may hold (ABACUS_DB_MAX_CONNS)."),
		acquires:                d("pgxpool_acquires_total", "Successful acquires of a connection from the pool."),
		acquireSeconds:          d("pgxpool_acquire_seconds_total", "Time spent in successful acquires, waits included."),
		emptyAcquires:           d("pgxpool_empty_acquires_total", "Successful acquires that had to wait for a connection (none was idle)."),
		emptyAcquireWaitSeconds: d("pgxpool_empty_acquire_wait_seconds_total", "Time spent waiting in acquires that found no idle connection."),
		canceledAcquires:        d("pgxpool_canceled_acquires_total", "Acquires given up because their context ended."),
		newConns:                d("pgxpool_new_conns_total", "Connections the pool has opened."),
		maxLifetimeDestroys:     d("pgxpool_max_lifetime_destroys_total", "Connections closed for reaching their maximum lifetime."),
		maxIdleDestroys:         d("pgxpool_max_idle_destroys_total", "Connections closed for having been idle too long."),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.acquired, c.idle, c.constructing, c.total, c.max,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.emptyAcquireWaitSeconds, c.canceledAcquires,
		c.newConns, c.maxLifetimeDestroys, c.maxIdleDestroys,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.emptyAcquireWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.maxLifetimeDestroys, float64(s.MaxLifetimeDestroyCount()))
	counter(c.maxIdleDestroys, float64(s.MaxIdleDestroyCount()))
}
