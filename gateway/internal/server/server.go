// Package server runs the gateway: it dials the customer, ledger and history
// services, serves the HTTP APIs in front of them, and shuts down cleanly
// when its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tracing"
)

// Options configure Run.
type Options struct {
	// HTTPAddr is the API listen address; port 0 picks a free port, which
	// Started reports.
	HTTPAddr string
	// AdminAddr serves Prometheus /metrics, /livez, /readyz and
	// /debug/pprof/, as the services' admin ports do; empty disables it.
	AdminAddr string
	// The services' gRPC addresses.
	CustomerAddr, LedgerAddr, HistoryAddr string
	// ServiceToken proves to the services that the gateway is part of Abacus.
	ServiceToken string
	// Client bounds the calls to the services (deadlines by kind of call).
	Client rpcclient.Config
	// ShutdownTimeout bounds the graceful shutdown; default 20s.
	ShutdownTimeout time.Duration
	// AuthFailureBurst and AuthFailureRefill configure the limiter on failed
	// authentications (see HandlerConfig).
	AuthFailureBurst  int
	AuthFailureRefill time.Duration
	// TrustedProxies: see HandlerConfig.
	TrustedProxies []netip.Prefix
	// PublicURL and MagentoWSI: see HandlerConfig.
	PublicURL  string
	MagentoWSI bool
	// AuthCacheSize bounds the cache of verified credentials; 0 disables it.
	AuthCacheSize int
	Logger        *slog.Logger
	// Tracing, when on (non-nil), traces each request and service call.
	Tracing *tracing.Tracing
	// Started, when set, is called with the bound API and admin addresses
	// (admin nil when AdminAddr is empty) once the gateway accepts
	// connections.
	Started func(api, admin net.Addr)
}

// Run serves until ctx ends, then stops accepting, lets requests in flight
// finish within ShutdownTimeout, and closes the service connections.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.ServiceToken == "" {
		return errors.New("service token is empty: set ABACUS_SERVICE_TOKEN")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 20 * time.Second
	}
	log := opts.Logger

	var conns []*grpc.ClientConn
	defer func() {
		for _, cc := range conns {
			err = errors.Join(err, cc.Close())
		}
	}()
	targets := []struct{ name, addr string }{
		{"customer", opts.CustomerAddr}, {"ledger", opts.LedgerAddr}, {"history", opts.HistoryAddr},
	}
	for _, t := range targets {
		cc, err := rpcclient.Dial(t.addr, opts.ServiceToken, opts.Client, opts.Tracing.DialOptions()...)
		if err != nil {
			return fmt.Errorf("dial %s service: %w", t.name, err)
		}
		conns = append(conns, cc)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var cache *auth.Cache
	if opts.AuthCacheSize > 0 {
		if cache, err = auth.NewCache(opts.AuthCacheSize, reg); err != nil {
			return err
		}
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go cache.Watch(watchCtx, customerv1.NewTenantAdminServiceClient(conns[0]), log)
	}
	handler, err := NewHandler(Conns{Customer: conns[0], Ledger: conns[1], History: conns[2]}, HandlerConfig{
		Logger:            log,
		AuthFailureBurst:  opts.AuthFailureBurst,
		AuthFailureRefill: opts.AuthFailureRefill,
		TrustedProxies:    opts.TrustedProxies,
		PublicURL:         opts.PublicURL,
		MagentoWSI:        opts.MagentoWSI,
		Metrics:           reg,
		AuthCache:         cache,
	})
	if err != nil {
		return err
	}

	servers := []*http.Server{newHTTPServer(traced(handler, opts.Tracing), log)}
	addrs := []string{opts.HTTPAddr}
	if opts.AdminAddr != "" {
		probes := newProbes(Conns{Customer: conns[0], Ledger: conns[1], History: conns[2]})
		servers = append(servers, newHTTPServer(adminMux(reg, probes), log))
		addrs = append(addrs, opts.AdminAddr)
	}
	listeners := make([]net.Listener, 0, len(servers))
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("listen on %q: %w", addr, err)
		}
		listeners = append(listeners, ln)
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var admin net.Addr // nil when the admin port is off
	adminAddr := ""
	if len(listeners) > 1 {
		admin = listeners[1].Addr()
		adminAddr = admin.String()
	}
	log.InfoContext(ctx, "gateway listening", "http", listeners[0].Addr().String(), "admin", adminAddr)
	if opts.Started != nil {
		opts.Started(listeners[0].Addr(), admin)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	}
	log.InfoContext(ctx, "gateway shutting down")
	// ctx is done already; the shutdown needs a deadline of its own.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			serveErr = errors.Join(serveErr, fmt.Errorf("shutdown: %w", err))
		}
	}
	return serveErr
}

// adminMux is the admin port's handler, the same set of endpoints as the
// services' admin ports (services/platform/grpcserver): Prometheus
// /metrics; /livez, the process answers; /readyz, the readiness of the
// main port's /readyz (all three services SERVING), so a probe or an
// operator gets one answer whichever port it asks; and the profiles, on the
// admin port only (never the public one): how a slow gateway is measured
// in place (abacusdev bench soap -profile).
func adminMux(reg *prometheus.Registry, probes *probes) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /livez", probes.live)
	mux.HandleFunc("GET /readyz", probes.ready)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
