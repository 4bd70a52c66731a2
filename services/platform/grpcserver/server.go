// Package grpcserver runs a service's gRPC server and its admin HTTP server
// (Prometheus metrics, liveness, readiness) with graceful shutdown.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"buf.build/go/protovalidate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Config is the serving section of every service's configuration. Each
// service gives its own default addresses in its config struct.
type Config struct {
	ShutdownTimeout time.Duration `env:"ABACUS_SHUTDOWN_TIMEOUT" flag:"shutdown-timeout" default:"20s" help:"how long in-flight calls may finish after SIGTERM"`
	ServiceToken    string        `env:"ABACUS_SERVICE_TOKEN" secret:"true" help:"token internal callers present (required; environment only, so it never shows in ps)"`
}

// Options describe one service to run.
type Options struct {
	Name            string
	GRPCAddr        string
	AdminAddr       string
	ShutdownTimeout time.Duration
	Log             *slog.Logger
	Policy          *tenancy.Policy
	// Ready reports whether the service can serve (its database answers).
	Ready func(ctx context.Context) error
	// Register adds the service's handlers.
	Register func(s *grpc.Server)
	// Registry receives the server's metrics; services add their own to it.
	Registry *prometheus.Registry
	// ProbeInterval is how often Ready is checked; 2s when zero.
	ProbeInterval time.Duration
	// Started, if set, receives the bound addresses once listening.
	Started func(grpcAddr, adminAddr net.Addr)
	// ServerOptions are added to the server's own (tracing's stats
	// handler, when tracing is on).
	ServerOptions []grpc.ServerOption
}

// Run serves until ctx ends, then drains: health turns NOT_SERVING, in-flight
// calls get ShutdownTimeout to finish, then the rest are cut.
func Run(ctx context.Context, o Options) error {
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	validator, err := protovalidate.New()
	if err != nil {
		return fmt.Errorf("protovalidate: %w", err)
	}
	m := newMetrics(o.Registry)
	srv := grpc.NewServer(append([]grpc.ServerOption{
		// The callers' keepalive pings find a frozen peer; the default
		// policy would answer them by closing the connection.
		grpc.KeepaliveEnforcementPolicy(rpcclient.KeepalivePolicy),
		grpc.ChainUnaryInterceptor(unaryChain(o.Log, m, o.Policy, validator)),
		grpc.ChainStreamInterceptor(streamChain(o.Log, m, o.Policy, validator)),
	}, o.ServerOptions...)...)
	o.Register(srv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)

	var ready atomic.Bool
	setReady := func(ok bool) {
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if ok {
			st = healthpb.HealthCheckResponse_SERVING
		}
		ready.Store(ok)
		hs.SetServingStatus("", st)
		for name := range srv.GetServiceInfo() {
			hs.SetServingStatus(name, st)
		}
	}
	setReady(false)

	gl, err := net.Listen("tcp", o.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen grpc %s: %w", o.GRPCAddr, err)
	}
	al, err := net.Listen("tcp", o.AdminAddr)
	if err != nil {
		gl.Close()
		return fmt.Errorf("listen admin %s: %w", o.AdminAddr, err)
	}
	admin := &http.Server{Handler: adminMux(o.Registry, &ready), ReadHeaderTimeout: 5 * time.Second}
	o.Log.Info("serving", "grpc", gl.Addr().String(), "admin", al.Addr().String())
	if o.Started != nil {
		o.Started(gl.Addr(), al.Addr())
	}

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(gl) }()
	go func() {
		if err := admin.Serve(al); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go probe(probeCtx, o, setReady)

	select {
	case err := <-errc:
		srv.Stop()
		admin.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	o.Log.Info("shutting down", "timeout", o.ShutdownTimeout.String())
	stopProbe()
	setReady(false)
	hs.Shutdown()
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.ShutdownTimeout):
		o.Log.Warn("shutdown timeout: cutting remaining calls")
		srv.Stop()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = admin.Shutdown(sctx)
	o.Log.Info("stopped")
	return nil
}

// probe follows readiness: SERVING while Ready succeeds.
func probe(ctx context.Context, o Options, setReady func(bool)) {
	last := false
	check := func() {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := o.Ready(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ok := err == nil
		if ok != last {
			if ok {
				o.Log.Info("ready")
			} else {
				o.Log.Warn("not ready", "error", err.Error())
			}
		}
		last = ok
		setReady(ok)
	}
	check()
	every := o.ProbeInterval
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

func adminMux(reg *prometheus.Registry, ready *atomic.Bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Profiles on the admin port only, which the network policy keeps
	// internal: they are how a slow service is measured in place.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}
