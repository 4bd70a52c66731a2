package projection

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the projector's Prometheus metrics. The per-tenant lag is
// computed at scrape time from the followers, so the age of a waiting entry
// grows between batches as it does in fact. Tenants are companies (a few
// per deployment, with their sandbox twins), so a tenant label stays small.
type metrics struct {
	p *Projector

	batchSize       prometheus.Histogram
	batchSeconds    prometheus.Histogram
	streamErrors    prometheus.Counter
	cursorConflicts prometheus.Counter
	duplicates      prometheus.Counter

	entriesBehind *prometheus.Desc
	secondsBehind *prometheus.Desc
	applied       *prometheus.Desc
	connected     *prometheus.Desc
	downSeconds   *prometheus.Desc
	followers     *prometheus.Desc
}

func newMetrics(p *Projector) *metrics {
	tenant := []string{"tenant"}
	return &metrics{
		p: p,
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "history_projection_batch_entries", Help: "Entries applied per projection transaction.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "history_projection_batch_seconds", Help: "Time to apply one projection batch.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		streamErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "history_projection_stream_errors_total", Help: "Ledger stream attempts that ended in an error (followed by a reconnection).",
		}),
		cursorConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "history_projection_cursor_conflicts_total", Help: "Batches refused because another projector had moved the stored cursor.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "history_projection_duplicate_entries_total", Help: "Streamed entries already present, skipped (the stream promises none).",
		}),
		entriesBehind: prometheus.NewDesc("history_projection_lag_entries",
			"Entries the ledger has committed that the projection has not applied, against the ledger's stream head (read every second).", tenant, nil),
		secondsBehind: prometheus.NewDesc("history_projection_lag_seconds",
			"Age of the oldest committed entry the projection has not applied; 0 when caught up.", tenant, nil),
		applied: prometheus.NewDesc("history_projection_applied_entries_total",
			"Entries applied by this replica since it started following the tenant.", tenant, nil),
		connected: prometheus.NewDesc("history_projection_stream_up",
			"1 while the tenant's ledger stream is open.", tenant, nil),
		downSeconds: prometheus.NewDesc("history_projection_stream_down_seconds",
			"How long the tenant's ledger stream has been down; 0 while it is open.", tenant, nil),
		followers: prometheus.NewDesc("history_projection_tenants",
			"Tenants this replica projects.", nil, nil),
	}
}

// Register adds the projector's metrics to reg.
func (p *Projector) Register(reg prometheus.Registerer) error {
	m := p.metrics
	for _, c := range []prometheus.Collector{m.batchSize, m.batchSeconds, m.streamErrors, m.cursorConflicts, m.duplicates, m} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Describe implements prometheus.Collector for the per-tenant metrics.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.entriesBehind
	ch <- m.secondsBehind
	ch <- m.applied
	ch <- m.connected
	ch <- m.downSeconds
	ch <- m.followers
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	fs := m.p.snapshot()
	now := time.Now()
	ch <- prometheus.MustNewConstMetric(m.followers, prometheus.GaugeValue, float64(len(fs)))
	for id, f := range fs {
		l := f.lag(now)
		up, down := 0.0, 0.0
		if l.Connected {
			up = 1
		} else if !l.DisconnectedSince.IsZero() {
			down = now.Sub(l.DisconnectedSince).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(m.entriesBehind, prometheus.GaugeValue, float64(l.EntriesBehind), id)
		ch <- prometheus.MustNewConstMetric(m.secondsBehind, prometheus.GaugeValue, l.TimeBehind.Seconds(), id)
		ch <- prometheus.MustNewConstMetric(m.applied, prometheus.CounterValue, float64(f.applied.Load()), id)
		ch <- prometheus.MustNewConstMetric(m.connected, prometheus.GaugeValue, up, id)
		ch <- prometheus.MustNewConstMetric(m.downSeconds, prometheus.GaugeValue, down, id)
	}
}
