package exigo

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/gateway/internal/auth"
	"github.com/abacus-ledger/abacus/gateway/internal/soapxml/soaptest"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// The fakes answer for one tenant, customer 4 (key "K4"), so that fuzzed
// envelopes reach every branch: authentication, lookups, balances, updates.
type fakeTenants struct {
	customerv1.TenantAdminServiceClient
}

func (fakeTenants) Authenticate(_ context.Context, req *customerv1.AuthenticateRequest, _ ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	if c := req.GetExigo(); c.GetLogin() != "jdoe" || c.GetCompany() != "acme" || c.GetPassword() != "pw" {
		return nil, status.Error(codes.Unauthenticated, "bad credential")
	}
	return &customerv1.AuthenticateResponse{TenantId: "t"}, nil
}

type fakeCustomers struct {
	customerv1.CustomerServiceClient
}

func (fakeCustomers) LookupCustomer(_ context.Context, req *customerv1.LookupCustomerRequest, _ ...grpc.CallOption) (*customerv1.LookupCustomerResponse, error) {
	if req.GetCustomerKey() != "K4" {
		return nil, status.Error(codes.NotFound, "no such customer")
	}
	return &customerv1.LookupCustomerResponse{Customer: &customerv1.Customer{CustomerId: 4}}, nil
}

func (fakeCustomers) UpdateCustomerExtended(_ context.Context, req *customerv1.UpdateCustomerExtendedRequest, _ ...grpc.CallOption) (*customerv1.UpdateCustomerExtendedResponse, error) {
	if req.GetCustomerId() != 4 {
		return nil, status.Error(codes.NotFound, "no such customer")
	}
	return &customerv1.UpdateCustomerExtendedResponse{}, nil
}

type fakeLedger struct{ ledgerv1.LedgerServiceClient }

func (fakeLedger) GetBalances(_ context.Context, req *ledgerv1.GetBalancesRequest, _ ...grpc.CallOption) (*ledgerv1.GetBalancesResponse, error) {
	if req.GetCustomerId() != 4 {
		return nil, status.Error(codes.NotFound, "no such customer")
	}
	return &ledgerv1.GetBalancesResponse{CurrencyBalances: []*ledgerv1.CurrencyBalance{
		{Currency: "USD", Description: "US dollar <&>", Balance: "12.50", Scale: 2},
	}}, nil
}

// envelope frames body with the ApiAuthentication header as the seeds'
// .NET proxy does.
func envelope(body string) string {
	return `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Header>` +
		`<ApiAuthentication xmlns="http://api.exigo.com/"><LoginName>jdoe</LoginName><Password>pw</Password>` +
		`<Company>acme</Company></ApiAuthentication></soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

// FuzzExigoSOAP posts envelopes to ExigoApi.asmx: every answer must be a
// whole envelope (soaptest.FuzzEndpoint).
func FuzzExigoSOAP(f *testing.F) {
	log := slog.New(slog.DiscardHandler)
	h := New(Clients{Customer: fakeCustomers{}, Ledger: fakeLedger{}},
		auth.NewGuard(fakeTenants{}, auth.NewLimiter(1<<30, time.Second, nil), log), log, "")
	soaptest.FuzzEndpoint(f, h, "/3.0/ExigoApi.asmx",
		envelope(`<GetCustomerBalancesRequest xmlns="http://api.exigo.com/"><CustomerID>4</CustomerID></GetCustomerBalancesRequest>`),
		envelope(`<GetCustomerBalancesRequest xmlns="http://api.exigo.com/"><CustomerID>0</CustomerID><CustomerKey>K4</CustomerKey></GetCustomerBalancesRequest>`),
		envelope(`<e:UpdateCustomerExtendedRequest xmlns:e="http://api.exigo.com/"><e:CustomerID>4</e:CustomerID><e:ExtendedGroupID>1</e:ExtendedGroupID>`+
			`<e:CustomerExtendedID>1</e:CustomerExtendedID><e:Field1>one</e:Field1><e:Field2 xsi:nil="true"/><e:Field3/></e:UpdateCustomerExtendedRequest>`),
		envelope(`<GetCustomerBalancesRequest xmlns="http://api.exigo.com/"><CustomerID>-1</CustomerID></GetCustomerBalancesRequest>`),
	)
}
