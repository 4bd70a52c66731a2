package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

const testServiceToken = "test-service-token"

// call is one RPC a fake service received, with its metadata.
type call struct {
	method string
	md     metadata.MD
}

// recorder of calls, shared by the three fake services of one test.
type calls struct {
	mu   sync.Mutex
	list []call
}

func (c *calls) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c.mu.Lock()
	c.list = append(c.list, call{method: info.FullMethod, md: md.Copy()})
	c.mu.Unlock()
	return handler(ctx, req)
}

// to returns the calls of one method, such as "LookupCustomer".
func (c *calls) to(method string) []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []call
	for _, cl := range c.list {
		if len(cl.method) >= len(method) && cl.method[len(cl.method)-len(method):] == method {
			out = append(out, cl)
		}
	}
	return out
}

// fakeTenantAdmin authenticates a fixed table of credentials.
type fakeTenantAdmin struct {
	customerv1.UnimplementedTenantAdminServiceServer
}

func (fakeTenantAdmin) Authenticate(_ context.Context, req *customerv1.AuthenticateRequest) (*customerv1.AuthenticateResponse, error) {
	tenant := ""
	switch c := req.GetCredential().(type) {
	case *customerv1.AuthenticateRequest_Exigo:
		if c.Exigo.GetLogin() == "jdoe" && c.Exigo.GetCompany() == "acme" && c.Exigo.GetPassword() == "exigo-pw" {
			tenant = "t-exigo"
		}
	case *customerv1.AuthenticateRequest_Igsend:
		if c.Igsend.GetPublicKey() == "pub-live" && c.Igsend.GetPrivateKey() == "priv-live" {
			tenant = "t-igsend"
		}
	case *customerv1.AuthenticateRequest_Manex:
		if c.Manex.GetApiKey() == "K123456789" {
			tenant = "t-manex"
		}
	case *customerv1.AuthenticateRequest_Magento:
		if c.Magento.GetApiUser() == "mage" && c.Magento.GetApiKey() == "mage-key" {
			tenant = "t-magento"
		}
	case *customerv1.AuthenticateRequest_MagentoSession:
		if err := fakeMagentoSession(c.MagentoSession.GetSessionId()); err != nil {
			return nil, err
		}
		tenant = "t-magento"
	case *customerv1.AuthenticateRequest_Basic:
		if c.Basic.GetUsername() == "mage" && c.Basic.GetPassword() == "mage-key" {
			tenant = "t-magento"
		}
	}
	if tenant == "" {
		return nil, status.Error(codes.Unauthenticated, "invalid credential")
	}
	return &customerv1.AuthenticateResponse{TenantId: tenant, CredentialId: "cred-1"}, nil
}

var acme = &customerv1.Customer{
	CustomerId: 42, CustomerNumber: "0000000010", Name: "Acme",
	Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE, CreditLimit: "100.50",
}

// fakeCustomers knows customer 42 (Acme) and customer 7 by key; it lists
// Acme (to any filter but another status) and echoes a created customer
// named Echo back as customer 99, so that a test sees what the gateway
// sent; other writes are not implemented. Real writes are gateway/e2e's,
// against the real service.
type fakeCustomers struct {
	customerv1.UnimplementedCustomerServiceServer
}

func (fakeCustomers) CreateCustomer(_ context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	if req.GetCustomer().GetName() != "Echo" {
		return nil, status.Error(codes.Unimplemented, "not implemented")
	}
	c := proto.CloneOf(req.GetCustomer())
	c.CustomerId = 99
	return &customerv1.CreateCustomerResponse{Customer: c}, nil
}

func (fakeCustomers) ListCustomers(_ context.Context, req *customerv1.ListCustomersRequest) (*customerv1.ListCustomersResponse, error) {
	if s := req.GetStatus(); s != customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED && s != acme.GetStatus() {
		return &customerv1.ListCustomersResponse{}, nil
	}
	return &customerv1.ListCustomersResponse{Customers: []*customerv1.Customer{acme}}, nil
}

func (fakeCustomers) GetCustomer(_ context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	if req.GetCustomerId() == 42 {
		return &customerv1.GetCustomerResponse{Customer: acme}, nil
	}
	return nil, status.Error(codes.NotFound, "customer not found")
}

func (fakeCustomers) LookupCustomer(_ context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	switch {
	case req.GetCustomerNumber() == "0000000010", req.GetName() == "Acme":
		return &customerv1.LookupCustomerResponse{Customer: acme}, nil
	case req.GetCustomerKey() == "K7":
		return &customerv1.LookupCustomerResponse{Customer: &customerv1.Customer{CustomerId: 7}}, nil
	case req.GetName() == "Twin":
		return nil, status.Error(codes.FailedPrecondition, "several customers have this name")
	}
	return nil, status.Error(codes.NotFound, "customer not found")
}

// fakeLedger: customer 7 has USD and GBP balances, 8 has none, 9 finds the
// ledger down, 10 hits an internal error; any other customer is unknown.
type fakeLedger struct {
	ledgerv1.UnimplementedLedgerServiceServer
}

func (fakeLedger) GetBalances(_ context.Context, req *ledgerv1.GetBalancesRequest) (*ledgerv1.GetBalancesResponse, error) {
	switch req.GetCustomerId() {
	case 7:
		return &ledgerv1.GetBalancesResponse{CurrencyBalances: []*ledgerv1.CurrencyBalance{
			{Currency: "GBP", Description: "Pound Sterling", Scale: 2, Balance: "-3.1"},
			{Currency: "USD", Description: "US Dollar", Scale: 2, Balance: "1400000"},
		}}, nil
	case 8:
		return &ledgerv1.GetBalancesResponse{}, nil
	case 9:
		return nil, status.Error(codes.Unavailable, "connection refused")
	case 10:
		return nil, status.Error(codes.Internal, "pq: password authentication failed for user ledger")
	}
	return nil, status.Error(codes.NotFound, "customer has no balance")
}

// fakeHistory: customer 4 has two rows, 5 none, 6 is not implemented, 9
// finds the history down.
type fakeHistory struct {
	historyv1.UnimplementedHistoryServiceServer
}

func (fakeHistory) ListHistory(_ context.Context, req *historyv1.ListHistoryRequest) (*historyv1.ListHistoryResponse, error) {
	switch req.GetCustomerId() {
	case 4:
		at := func(s string) *timestamppb.Timestamp {
			t, _ := time.Parse(time.DateTime, s)
			return timestamppb.New(t)
		}
		return &historyv1.ListHistoryResponse{Entries: []*historyv1.HistoryEntry{
			{HistoryId: 2, BalanceId: 1, UpdateTime: at("2012-04-06 13:50:33"), Action: 1, BalanceAmount: "300", BalanceDelta: "-200",
				AdditionalInfo: "By admin: john@example.com. (update balance)", CustomerId: 4, WebsiteId: 2, Currency: "USD"},
			{HistoryId: 1, BalanceId: 1, UpdateTime: at("2012-04-06 13:44:58"), Action: 2, BalanceAmount: "500.00", BalanceDelta: "500",
				AdditionalInfo: "By admin: john@example.com. (new balance)", CustomerNotified: true, CustomerId: 4, WebsiteId: 2, Currency: "USD"},
		}}, nil
	case 5:
		return &historyv1.ListHistoryResponse{}, nil
	case 6:
		return nil, status.Error(codes.Unimplemented, "not yet")
	case 9:
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	return nil, status.Error(codes.NotFound, "no such customer")
}

// services are the three fake service processes of one test.
type services struct {
	calls  *calls
	health map[string]*health.Server
	lis    map[string]net.Listener
}

// startServices serves the fakes on listeners made by listen (bufconn, or
// 127.0.0.1:0 for Run).
func startServices(t *testing.T, listen func(name string) net.Listener) *services {
	t.Helper()
	s := &services{calls: &calls{}, health: map[string]*health.Server{}, lis: map[string]net.Listener{}}
	register := map[string]func(*grpc.Server){
		"customer": func(g *grpc.Server) {
			customerv1.RegisterCustomerServiceServer(g, fakeCustomers{})
			customerv1.RegisterTenantAdminServiceServer(g, fakeTenantAdmin{})
		},
		"ledger":  func(g *grpc.Server) { ledgerv1.RegisterLedgerServiceServer(g, fakeLedger{}) },
		"history": func(g *grpc.Server) { historyv1.RegisterHistoryServiceServer(g, fakeHistory{}) },
	}
	for name, reg := range register {
		g := grpc.NewServer(grpc.UnaryInterceptor(s.calls.intercept))
		reg(g)
		hs := health.NewServer()
		healthpb.RegisterHealthServer(g, hs)
		s.health[name] = hs
		lis := listen(name)
		s.lis[name] = lis
		go func() { _ = g.Serve(lis) }()
		t.Cleanup(g.Stop)
	}
	return s
}

// env is a gateway handler in front of fake services.
type env struct {
	*services
	conns   Conns
	handler http.Handler
}

type envOptions struct {
	burst      int
	now        func() time.Time
	publicURL  string
	magentoWSI bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	bufs := map[string]*bufconn.Listener{}
	s := startServices(t, func(name string) net.Listener {
		bufs[name] = bufconn.Listen(1 << 20)
		return bufs[name]
	})
	dial := func(name string) *grpc.ClientConn {
		opts := append([]grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bufs[name].DialContext(ctx) }),
		}, tenancy.DialOptions(testServiceToken)...)
		cc, err := grpc.NewClient("passthrough:///"+name, opts...)
		if err != nil {
			t.Fatalf("dial %s: %v", name, err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		return cc
	}
	conns := Conns{Customer: dial("customer"), Ledger: dial("ledger"), History: dial("history")}
	h, err := NewHandler(conns, HandlerConfig{
		AuthFailureBurst:  o.burst,
		AuthFailureRefill: 6 * time.Second,
		Now:               o.now,
		PublicURL:         o.publicURL,
		MagentoWSI:        o.magentoWSI,
	})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return &env{services: s, conns: conns, handler: h}
}
