// Command gateway is Abacus's HTTP front door: the native /v1 REST API and
// the Exigo, igsend, MANEX and Magento dialects, calling the customer, ledger
// and history services over gRPC.
//
//	gateway [flags]   serve HTTP
//	gateway help      every setting, with defaults
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/server"
	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/logging"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tracing"
)

// settings is the gateway's configuration. The service token has no flag:
// a flag would show it in the process list.
type settings struct {
	HTTPAddr          string        `env:"ABACUS_HTTP_ADDR" flag:"http-addr" default:":8080" help:"HTTP API listen address"`
	AdminAddr         string        `env:"ABACUS_ADMIN_ADDR" flag:"admin-addr" default:":9190" help:"admin listen address (/metrics, /livez, /readyz, /debug/pprof/); empty disables it"`
	CustomerAddr      string        `env:"ABACUS_CUSTOMER_ADDR" flag:"customer-addr" default:"127.0.0.1:9091" help:"customer service gRPC address"`
	LedgerAddr        string        `env:"ABACUS_LEDGER_ADDR" flag:"ledger-addr" default:"127.0.0.1:9092" help:"ledger service gRPC address"`
	HistoryAddr       string        `env:"ABACUS_HISTORY_ADDR" flag:"history-addr" default:"127.0.0.1:9093" help:"history service gRPC address"`
	ServiceToken      string        `env:"ABACUS_SERVICE_TOKEN" secret:"true" help:"token the gateway presents to the services (required)"`
	ShutdownTimeout   time.Duration `env:"ABACUS_SHUTDOWN_TIMEOUT" flag:"shutdown-timeout" default:"20s" help:"how long requests in flight may take to finish on shutdown"`
	LogLevel          string        `env:"ABACUS_LOG_LEVEL" flag:"log-level" default:"info" help:"debug, info, warn or error"`
	AuthFailureBurst  int           `env:"ABACUS_AUTH_FAILURE_BURST" flag:"auth-failure-burst" default:"10" help:"failed authentications allowed per client IP before it is refused"`
	AuthFailureRefill time.Duration `env:"ABACUS_AUTH_FAILURE_REFILL" flag:"auth-failure-refill" default:"6s" help:"time to regain one allowed failed authentication"`
	TrustedProxies    string        `env:"ABACUS_TRUSTED_PROXIES" flag:"trusted-proxies" help:"comma-separated CIDRs of proxies (an ingress) whose X-Forwarded-For names the client"`
	PublicURL         string        `env:"ABACUS_PUBLIC_URL" flag:"public-url" help:"the gateway's external URL (scheme://host[:port]) that SOAP WSDLs give as the endpoint; empty: the request's host"`
	AuthCacheSize     int           `env:"ABACUS_AUTH_CACHE_SIZE" flag:"auth-cache-size" default:"100000" help:"how many verified credentials the gateway caches (trusted only while the customer service's change stream is up); 0 disables the cache"`
	MagentoWSI        bool          `env:"ABACUS_MAGENTO_WSI" flag:"magento-wsi" default:"false" help:"serve Magento's WS-I (document/literal) WSDL at /api/v2_soap/?wsdl, as Magento's WS-I Compliance setting does: true or false"`
	Client            rpcclient.Config
	Tracing           tracing.Config
}

const usage = `usage:
  gateway [flags]
      serve the native /v1 API and the Exigo, igsend, MANEX and Magento
      dialects over HTTP, calling the customer, ledger and history services
  gateway help
      this help (also -h or --help)

`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(config.ExitCode(err))
	}
}

func run(ctx context.Context, args []string) error {
	var cfg settings
	if err := config.Load("gateway", args, &cfg); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			return config.PrintSettings(os.Stdout, &cfg)
		}
		return err
	}
	if cfg.ServiceToken == "" {
		return errors.New("ABACUS_SERVICE_TOKEN is required: the services refuse calls without the service token")
	}
	if cfg.AuthCacheSize < 0 {
		return errors.New("ABACUS_AUTH_CACHE_SIZE must not be negative")
	}
	if cfg.AuthFailureBurst < 1 || cfg.AuthFailureRefill <= 0 {
		return errors.New("ABACUS_AUTH_FAILURE_BURST must be at least 1 and ABACUS_AUTH_FAILURE_REFILL positive")
	}
	trusted, err := auth.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("ABACUS_TRUSTED_PROXIES: %w", err)
	}
	tr, err := tracing.Setup(ctx, cfg.Tracing, "gateway", tracing.Edge)
	if err != nil {
		return err
	}
	defer tr.Shutdown()
	log, err := logging.New(os.Stdout, "gateway", cfg.LogLevel, tr.LogOptions()...)
	if err != nil {
		return err
	}
	tr.LogErrors(log)
	log.InfoContext(ctx, "starting", "config", config.String(&cfg))
	return server.Run(ctx, server.Options{
		HTTPAddr:          cfg.HTTPAddr,
		AdminAddr:         cfg.AdminAddr,
		CustomerAddr:      cfg.CustomerAddr,
		LedgerAddr:        cfg.LedgerAddr,
		HistoryAddr:       cfg.HistoryAddr,
		ServiceToken:      cfg.ServiceToken,
		Client:            cfg.Client,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		AuthFailureBurst:  cfg.AuthFailureBurst,
		AuthFailureRefill: cfg.AuthFailureRefill,
		TrustedProxies:    trusted,
		PublicURL:         cfg.PublicURL,
		MagentoWSI:        cfg.MagentoWSI,
		AuthCacheSize:     cfg.AuthCacheSize,
		Logger:            log,
		Tracing:           tr,
	})
}
