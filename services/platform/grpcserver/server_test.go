package grpcserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

type allowAll struct{}

func (allowAll) TenantExists(context.Context, string) (bool, error) { return true, nil }

// ledgerStub panics for customer 13 and answers otherwise.
type ledgerStub struct {
	ledgerv1.UnimplementedLedgerServiceServer
}

func (ledgerStub) GetBalances(ctx context.Context, req *ledgerv1.GetBalancesRequest) (*ledgerv1.GetBalancesResponse, error) {
	if req.GetCustomerId() == 13 {
		panic("boom")
	}
	tenant, _ := tenancy.FromContext(ctx)
	return &ledgerv1.GetBalancesResponse{CurrencyBalances: []*ledgerv1.CurrencyBalance{{Currency: "USD", Description: tenant}}}, nil
}

func startServer(t *testing.T, ready *atomic.Bool) (ledgerv1.LedgerServiceClient, healthpb.HealthClient, string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Name: "test", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 5e9, ProbeInterval: 20e6,
			Log:    slog.New(slog.DiscardHandler),
			Policy: tenancy.NewPolicy("tok", allowAll{}, nil),
			Ready: func(context.Context) error {
				if !ready.Load() {
					return errors.New("database down")
				}
				return nil
			},
			Register: func(s *grpc.Server) { ledgerv1.RegisterLedgerServiceServer(s, ledgerStub{}) },
			Started:  func(g, a net.Addr) { addrs <- [2]net.Addr{g, a} },
		})
	}()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions("tok")...)
	conn, err := grpc.NewClient(a[0].String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	stop := func() error { cancel(); return <-done }
	t.Cleanup(func() { cancel() })
	return ledgerv1.NewLedgerServiceClient(conn), healthpb.NewHealthClient(conn), "http://" + a[1].String(), stop
}

func TestServerInterceptorsAndShutdown(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	client, health, admin, stop := startServer(t, &ready)
	ctx := tenancy.WithTenant(t.Context(), "tenant-1")

	resp, err := client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 1})
	if err != nil || resp.GetCurrencyBalances()[0].GetDescription() != "tenant-1" {
		t.Fatalf("call: %v %v", resp, err)
	}
	// protovalidate runs before the handler: customer_id must be > 0.
	_, err = client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: -1})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "customer_id") {
		t.Errorf("invalid request: %v", err)
	}
	// A panic becomes INTERNAL without its value, and the server lives on.
	_, err = client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 13})
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "boom") {
		t.Errorf("panic: %v", err)
	}
	if _, err := client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 2}); err != nil {
		t.Errorf("after panic: %v", err)
	}
	// Unimplemented methods stay behind the same checks.
	if _, err := client.ListCurrencies(ctx, &ledgerv1.ListCurrenciesRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("unimplemented: %v", err)
	}

	// Health follows readiness: wait on the Watch stream, not on a clock.
	waitHealth := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		w, err := health.Watch(t.Context(), &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			r, err := w.Recv()
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			if r.GetStatus() == want {
				return
			}
		}
	}
	waitHealth(healthpb.HealthCheckResponse_SERVING)
	ready.Store(false)
	waitHealth(healthpb.HealthCheckResponse_NOT_SERVING)
	if code := get(t, admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while not ready = %d", code)
	}
	ready.Store(true)
	waitHealth(healthpb.HealthCheckResponse_SERVING)
	if code := get(t, admin+"/metrics"); code != http.StatusOK {
		t.Errorf("metrics = %d", code)
	}

	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if _, err := client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 1}); status.Code(err) != codes.Unavailable {
		t.Errorf("after shutdown: %v", err)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
