package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/proto/openapi"
)

// readyTimeout bounds one readiness probe; a probe that hangs is as bad as
// one that fails.
const readyTimeout = 2 * time.Second

type probes struct {
	services map[string]healthpb.HealthClient
}

func newProbes(c Conns) *probes {
	return &probes{services: map[string]healthpb.HealthClient{
		"customer": healthpb.NewHealthClient(c.Customer),
		"ledger":   healthpb.NewHealthClient(c.Ledger),
		"history":  healthpb.NewHealthClient(c.History),
	}}
}

// live is the liveness probe: the process answers, nothing more. It must not
// depend on the services, or an outage there would restart every gateway.
func (h *probes) live(w http.ResponseWriter, r *http.Request) {
	jsonbody.WriteValue(w, r, nil, http.StatusOK, map[string]string{"status": "ok"})
}

// ready is the readiness probe: 200 only when every service's gRPC health
// check answers SERVING; otherwise 503 naming the state of each.
func (h *probes) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		states = make(map[string]string, len(h.services))
		ready  = true
	)
	for name, client := range h.services {
		wg.Go(func() {
			state := check(ctx, client)
			mu.Lock()
			defer mu.Unlock()
			states[name] = state
			if state != healthpb.HealthCheckResponse_SERVING.String() {
				ready = false
			}
		})
	}
	wg.Wait()
	if !ready {
		jsonbody.WriteValue(w, r, nil, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "services": states})
		return
	}
	jsonbody.WriteValue(w, r, nil, http.StatusOK, map[string]any{"status": "ok", "services": states})
}

// check returns the serving status, or the gRPC code of a failed check.
func check(ctx context.Context, client healthpb.HealthClient) string {
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return status.Code(err).String()
	}
	return resp.GetStatus().String()
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.Document)
}
