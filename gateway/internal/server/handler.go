package server

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/abacus-ledger/abacus/gateway/internal/apidocs"
	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/exigo"
	"github.com/abacus-ledger/abacus/gateway/internal/igsend"
	"github.com/abacus-ledger/abacus/gateway/internal/magento"
	"github.com/abacus-ledger/abacus/gateway/internal/manex"
	"github.com/abacus-ledger/abacus/gateway/internal/native"
	"github.com/abacus-ledger/abacus/gateway/internal/pathset"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// Conns are the gateway's connections to the services. They must have been
// dialed with tenancy.DialOptions, which send the service token and the
// tenant of each call; Run does that.
type Conns struct {
	// Customer serves CustomerService and TenantAdminService.
	Customer grpc.ClientConnInterface
	Ledger   grpc.ClientConnInterface
	History  grpc.ClientConnInterface
}

// HandlerConfig tunes NewHandler. The zero value of each field is a sensible
// default.
type HandlerConfig struct {
	Logger *slog.Logger
	// AuthFailureBurst failed authentications are allowed per client IP
	// before it is refused; one more is allowed per AuthFailureRefill.
	AuthFailureBurst  int           // default 10
	AuthFailureRefill time.Duration // default 6s
	// Now is the limiter's clock; tests pass a fake one.
	Now func() time.Time
	// Metrics, when set, receives the request metrics.
	Metrics prometheus.Registerer
	// MaxBodyBytes bounds request bodies; default 1 MiB.
	MaxBodyBytes int64
	// TrustedProxies are the proxies (an ingress) whose X-Forwarded-For
	// names the client the failure limiter counts.
	TrustedProxies []netip.Prefix
	// PublicURL is the gateway's external URL (scheme://host[:port]), the
	// address the SOAP WSDLs give; empty means the request's host.
	PublicURL string
	// MagentoWSI makes Magento's /api/v2_soap/?wsdl the WS-I WSDL.
	MagentoWSI bool
	// AuthCache, when set, answers verified credentials; its Watch must
	// run while the handler serves.
	AuthCache *auth.Cache
}

// DefaultMaxBodyBytes is the request body limit.
const DefaultMaxBodyBytes = 1 << 20

// dialect is what the server needs of each API it routes to.
type dialect interface {
	http.Handler
	// Paths are the request paths the API owns.
	Paths() pathset.Set
	WriteError(w http.ResponseWriter, r *http.Request, status int, message string)
}

// pathLogger is an API whose paths may carry a secret; the request log
// shows LogPath's version of them.
type pathLogger interface {
	LogPath(path string) string
}

// MANEX carries its API key in the path.
var _ pathLogger = (*manex.Handler)(nil)

// namedDialect is an API with its name in logs and metrics.
type namedDialect struct {
	name string
	dialect
}

type gateway struct {
	log     *slog.Logger
	metrics *metrics
	maxBody int64
	probes  *probes
	docs    *apidocs.Handler

	native *native.Handler
	// dialects are asked in this order which one owns a path. Magento comes
	// before MANEX, which owns every other /api/ path, so that such paths
	// get MANEX's own "no resource" answer.
	dialects []namedDialect
}

// NewHandler builds the gateway's HTTP handler: the native /v1 API, the four
// dialects, /healthz, /readyz, /openapi.json and /docs, each request with an id, a
// log line, panic recovery and a body limit.
func NewHandler(conns Conns, cfg HandlerConfig) (http.Handler, error) {
	if conns.Customer == nil || conns.Ledger == nil || conns.History == nil {
		return nil, errors.New("server: all three service connections are required")
	}
	if cfg.AuthFailureBurst < 0 || cfg.AuthFailureRefill < 0 || cfg.MaxBodyBytes < 0 {
		return nil, errors.New("server: negative limits")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthFailureBurst == 0 {
		cfg.AuthFailureBurst = 10
	}
	if cfg.AuthFailureRefill == 0 {
		cfg.AuthFailureRefill = 6 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	customers := customerv1.NewCustomerServiceClient(conns.Customer)
	ledger := ledgerv1.NewLedgerServiceClient(conns.Ledger)
	history := historyv1.NewHistoryServiceClient(conns.History)
	guard := auth.NewGuard(customerv1.NewTenantAdminServiceClient(conns.Customer),
		auth.NewLimiter(cfg.AuthFailureBurst, cfg.AuthFailureRefill, cfg.Now), log)
	guard.TrustProxies(cfg.TrustedProxies)
	if cfg.AuthCache != nil {
		guard.UseCache(cfg.AuthCache)
	}

	nat, err := native.New(native.Clients{Customer: customers, Ledger: ledger, History: history}, guard, RequestID, log)
	if err != nil {
		return nil, err
	}
	docs := apidocs.New()
	if !docs.Built() {
		log.Warn("API reference assets were not built; /docs answers 503 until the gateway is built by make build",
			"missing", docs.Missing())
	}
	return &gateway{
		log:     log,
		metrics: m,
		maxBody: cfg.MaxBodyBytes,
		probes:  newProbes(conns),
		docs:    docs,
		native:  nat,
		dialects: []namedDialect{
			{"native", nat},
			{"exigo", exigo.New(exigo.Clients{Customer: customers, Ledger: ledger}, guard, log, cfg.PublicURL)},
			{"igsend", igsend.New(ledger, guard, log)},
			{"magento", magento.New(history, guard, log, magento.SOAPConfig{PublicURL: cfg.PublicURL, WSI: cfg.MagentoWSI})},
			{"manex", manex.New(customers, guard, log)},
		},
	}, nil
}

// route picks the API that owns a path: the first dialect that says so.
func (g *gateway) route(path string) (name string, d dialect) {
	for _, nd := range g.dialects {
		if nd.Paths().Owns(path) {
			return nd.name, nd.dialect
		}
	}
	return "", nil
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set(RequestIDHeader, id)
	r = r.WithContext(withRequestID(r.Context(), id))
	rec := &recorder{ResponseWriter: w}

	name, d := g.route(r.URL.Path)
	logPath := r.URL.Path
	if pl, ok := d.(pathLogger); ok {
		logPath = pl.LogPath(logPath)
	}
	if name == "" {
		name = "gateway"
	}
	var writeError errorWriter
	if d != nil {
		writeError = d.WriteError
	}
	// Deferred in this order so the log line sees the status a recovered
	// panic produced. Headers are never logged: they carry credentials.
	defer func() {
		elapsed := time.Since(start)
		status := rec.status
		if status == 0 { // nothing written: net/http answers 200
			status = http.StatusOK
		}
		g.metrics.observe(name, r.Method, status, elapsed)
		g.log.InfoContext(r.Context(), "http request", "dialect", name, "method", r.Method,
			"path", logPath, "status", status, "duration_ms", float64(elapsed.Microseconds())/1000)
	}()
	defer recoverPanic(g.log, rec, r, writeError)

	if d == nil {
		g.serveOwn(rec, r)
		return
	}
	if !limitBody(rec, r, g.maxBody, d.WriteError) {
		return
	}
	d.ServeHTTP(rec, r)
}

// serveOwn answers the gateway's own endpoints; anything else is a 404 in
// the native API's shape.
func (g *gateway) serveOwn(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		g.probes.live(w, r)
	case "/readyz":
		g.probes.ready(w, r)
	case "/openapi.json":
		serveOpenAPI(w, r)
	default:
		if apidocs.Owns(r.URL.Path) {
			g.docs.ServeHTTP(w, r)
			return
		}
		g.native.WriteError(w, r, http.StatusNotFound, "Not Found")
	}
}
