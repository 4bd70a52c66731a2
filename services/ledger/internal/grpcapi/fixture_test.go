package grpcapi

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/customer/customerclient"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/grpcserver"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

const serviceToken = "test-service-token"

// fakeCustomers stands in for the customer service, a remote process: it
// answers GetCustomer for the tenant in the call's metadata, as the real
// one does, and counts the calls.
type fakeCustomers struct {
	customerv1.UnimplementedCustomerServiceServer
	known map[string]map[int32]bool // set up before serving, then read only
	calls atomic.Int64
}

func (f *fakeCustomers) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	f.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) != 1 || v[0] != "Bearer "+serviceToken {
		return nil, status.Error(codes.Unauthenticated, "no service token")
	}
	tenant := md.Get(tenancy.TenantKey)
	if len(tenant) != 1 {
		return nil, status.Error(codes.Unauthenticated, "no tenant")
	}
	if !f.known[tenant[0]][req.GetCustomerId()] {
		return nil, status.Error(codes.NotFound, "customer not found")
	}
	return &customerv1.GetCustomerResponse{Customer: &customerv1.Customer{CustomerId: req.GetCustomerId()}}, nil
}

// tenantSet is the interceptor's tenant check.
type tenantSet map[string]bool

func (s tenantSet) TenantExists(_ context.Context, id string) (bool, error) { return s[id], nil }

type fixture struct {
	client    ledgerv1.LedgerServiceClient
	pool      *pgxpool.Pool
	svc       *ledger.Service
	customers *fakeCustomers
	a, b      context.Context // calls as tenant a, tenant b
	tenantA   string
}

// newFixture serves the ledger as cmd/ledger does (interceptors included)
// on a fresh database, with customers 1..5 for tenant a, customer 6 for
// tenant b only, and customers 1..5 for tenant b too.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	tenantA, tenantB := uuid.NewString(), uuid.NewString()
	log := slog.New(slog.DiscardHandler)

	fake := &fakeCustomers{known: map[string]map[int32]bool{
		tenantA: {1: true, 2: true, 3: true, 4: true, 5: true},
		tenantB: {1: true, 2: true, 3: true, 4: true, 5: true, 6: true},
	}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	customerSrv := grpc.NewServer()
	customerv1.RegisterCustomerServiceServer(customerSrv, fake)
	go customerSrv.Serve(lis)
	customerConn, err := rpcclient.Dial(lis.Addr().String(), serviceToken, rpcclient.Config{})
	if err != nil {
		t.Fatal(err)
	}

	directory := customerclient.NewCached(customerclient.NewRemote(customerConn), time.Minute, 1000)
	svc := ledger.NewService(store.New(pool), directory, log, ledger.Config{})
	var wg sync.WaitGroup
	wg.Go(func() { svc.Run(ctx) })
	addr := make(chan net.Addr, 1)
	wg.Go(func() {
		err := grpcserver.Run(ctx, grpcserver.Options{
			Name: "ledger-test", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second,
			Log: log, Policy: tenancy.NewPolicy(serviceToken, tenantSet{tenantA: true, tenantB: true}, nil),
			Ready:    func(context.Context) error { return nil },
			Register: func(s *grpc.Server) { ledgerv1.RegisterLedgerServiceServer(s, New(svc, log)) },
			Started:  func(g, _ net.Addr) { addr <- g },
		})
		if err != nil {
			t.Errorf("serve: %v", err)
			close(addr)
		}
	})
	a, ok := <-addr
	if !ok {
		t.FailNow()
	}
	conn, err := grpc.NewClient(a.String(), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())},
		tenancy.DialOptions(serviceToken)...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		wg.Wait()
		customerConn.Close()
		customerSrv.Stop()
	})
	return &fixture{
		client: ledgerv1.NewLedgerServiceClient(conn), pool: pool, svc: svc, customers: fake,
		a: tenancy.WithTenant(t.Context(), tenantA), b: tenancy.WithTenant(t.Context(), tenantB), tenantA: tenantA,
	}
}

// wantCode fails t unless err has code and, when field is not empty, names
// field first in its message.
func wantCode(t *testing.T, err error, code codes.Code, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	if field != "" && (len(st.Message()) < len(field) || st.Message()[:len(field)] != field) {
		t.Fatalf("message %q does not name %s", st.Message(), field)
	}
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
