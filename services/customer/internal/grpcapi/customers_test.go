package grpcapi

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

const (
	active   = customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE
	inactive = customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE
	quote    = customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE
)

func migrateCustomerSchema(ctx context.Context, connString string) error {
	pool, err := database.Open(ctx, database.Config{URL: connString}, "test")
	if err != nil {
		return err
	}
	defer pool.Close()
	return database.Migrate(ctx, pool, "customer", migrations.FS, slog.New(slog.DiscardHandler))
}

// customerFixture is a server on a fresh database with two tenants; a and b
// are contexts acting for each.
type customerFixture struct {
	srv  *Customers
	a, b context.Context
}

func newCustomerFixture(t *testing.T) customerFixture {
	t.Helper()
	ctx := t.Context()
	pool, err := database.Open(ctx, database.Config{URL: pgtest.NewDatabase(t, "customer", migrateCustomerSchema)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tenantA, tenantB := uuid.NewString(), uuid.NewString()
	if _, err := pool.Exec(ctx, `INSERT INTO customer.tenants (tenant_id, name, company)
		VALUES ($1, 'Tenant A', 'tenant-a'), ($2, 'Tenant B', 'tenant-b')`, tenantA, tenantB); err != nil {
		t.Fatal(err)
	}
	return customerFixture{
		srv: NewCustomers(customer.NewService(store.New(pool)), slog.New(slog.DiscardHandler)),
		a:   tenancy.WithTenant(ctx, tenantA),
		b:   tenancy.WithTenant(ctx, tenantB),
	}
}

func (f customerFixture) create(t *testing.T, ctx context.Context, c *customerv1.Customer) *customerv1.Customer {
	t.Helper()
	resp, err := f.srv.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: c})
	if err != nil {
		t.Fatalf("CreateCustomer(%v): %v", c, err)
	}
	return resp.GetCustomer()
}

// wantCode fails t unless err is a status with code and, when field is not
// empty, a message starting with "field: ".
func wantCode(t *testing.T, err error, code codes.Code, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	if field != "" && !strings.HasPrefix(st.Message(), field+": ") {
		t.Fatalf("message %q does not name field %s", st.Message(), field)
	}
}

func ts(year int, month time.Month, day int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(year, month, day, 10, 9, 57, 41868000, time.UTC))
}

// fullCustomer sets every settable field; decimals are in canonical form
// so that they read back as written.
func fullCustomer() *customerv1.Customer {
	return &customerv1.Customer{
		CustomerKey: "ACME1", CustomerNumber: "", Name: "Acme Corp", Status: active,
		Phone: "555-0100", Fax: "555-0101", BillLinkAddress: "B1", ShipLinkAddress: "S1",
		Territory: "NEW ENGLAND", Terms: "NET 30/2% 10", CreditLimit: "1500.5", Profile: "profile",
		Note: "a note", AccountStatus: "open", Division: "east", SalesReps: "JD, MK", CreditStatus: "OK",
		ResellerNumber: "R-9", ArCallTime: ts(2014, 11, 18), ArCallTimeText: "10:09", ArCallBy: "JD",
		ArCallNote: "called", ArHighBalance: "99.9999", CreditNote: "fine", AccountDate: ts(2014, 11, 19),
		SaveInitials: "JD", OutsideMargin: "-1.25", ToolingMargin: "2", MaterialMargin: "3.5",
		LaborMargin: "4", MinimumOrderAmount: "100", ScrapFactor: "0.05", CommissionItem: "7",
		CustomerSpec: "8", Labor: true, Material: true, Split1: "1", Split2: "2", SplitAmount: "3.33",
		SplitPercent: "33.3333", Tooling: true, SicCode: "1234", SicDescription: "widgets",
		DeliveryTime: "2 days", SerialFlag: true, Overhead: "999999999999999.9999", IsEdited: "Y",
		SalesDiscountId: "SD1", CustomerPrefix: "AC", AccountTaxable: true, InactiveTime: ts(2020, 1, 2),
		InactiveInitials: "MK", UserId: "user-1",
	}
}
