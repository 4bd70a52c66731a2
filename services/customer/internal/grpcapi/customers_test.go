package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/database"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
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

func TestCreateAndGetCustomer(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)

	in := fullCustomer()
	got := f.create(t, f.a, in)
	want := proto.Clone(in).(*customerv1.Customer)
	want.CustomerId, want.CustomerNumber, want.Version = 1, "0000000001", 1
	if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&customerv1.Customer{}, "create_time")); diff != "" {
		t.Errorf("created customer (-want +got):\n%s", diff)
	}
	if got.GetCreateTime() == nil || got.GetModifyTime() != nil {
		t.Errorf("create_time %v, modify_time %v; want set and unset", got.GetCreateTime(), got.GetModifyTime())
	}
	read, err := f.srv.GetCustomer(f.a, &customerv1.GetCustomerRequest{CustomerId: got.GetCustomerId()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read.GetCustomer(), protocmp.Transform()); diff != "" {
		t.Errorf("GetCustomer differs from the create answer (-create +get):\n%s", diff)
	}

	// A minimal customer: everything empty, zero or absent, but the account
	// date, which defaults to now.
	before := time.Now().Add(-time.Second)
	minimal := f.create(t, f.a, &customerv1.Customer{Name: "Bare", Status: quote, CreditLimit: "10.00"})
	wantMinimal := &customerv1.Customer{
		CustomerId: 2, CustomerNumber: "0000000002", Name: "Bare", Status: quote, Version: 1,
		CreditLimit: "10", ArHighBalance: "0", OutsideMargin: "0", ToolingMargin: "0", MaterialMargin: "0",
		LaborMargin: "0", MinimumOrderAmount: "0", ScrapFactor: "0", CommissionItem: "0", CustomerSpec: "0",
		Split1: "0", Split2: "0", SplitAmount: "0", SplitPercent: "0", Overhead: "0",
	}
	if diff := cmp.Diff(wantMinimal, minimal, protocmp.Transform(),
		protocmp.IgnoreFields(&customerv1.Customer{}, "create_time", "account_date")); diff != "" {
		t.Errorf("minimal customer (-want +got):\n%s", diff)
	}
	if d := minimal.GetAccountDate().AsTime(); d.Before(before) || d.After(time.Now().Add(time.Second)) {
		t.Errorf("account_date = %v, want about now", d)
	}
}

func TestCreateCustomerRules(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	f.create(t, f.a, &customerv1.Customer{Name: "Taken", Status: active, CustomerNumber: "0000000500", CustomerKey: "taken"})

	tests := []struct {
		name  string
		in    *customerv1.Customer
		code  codes.Code
		field string
	}{
		{"status missing", &customerv1.Customer{Name: "X"}, codes.InvalidArgument, "status"},
		{"status unknown", &customerv1.Customer{Name: "X", Status: 42}, codes.InvalidArgument, "status"},
		{"credit limit negative", &customerv1.Customer{Name: "X", Status: active, CreditLimit: "-1"}, codes.InvalidArgument, "credit_limit"},
		{"credit limit not a number", &customerv1.Customer{Name: "X", Status: active, CreditLimit: "12,50"}, codes.InvalidArgument, "credit_limit"},
		{"credit limit five decimals", &customerv1.Customer{Name: "X", Status: active, CreditLimit: "0.00001"}, codes.InvalidArgument, "credit_limit"},
		{"ar high balance negative", &customerv1.Customer{Name: "X", Status: active, ArHighBalance: "-0.5"}, codes.InvalidArgument, "ar_high_balance"},
		{"overhead too large", &customerv1.Customer{Name: "X", Status: active, Overhead: "1000000000000000"}, codes.InvalidArgument, "overhead"},
		{"territory", &customerv1.Customer{Name: "X", Status: active, Territory: "MARS"}, codes.InvalidArgument, "territory"},
		{"terms", &customerv1.Customer{Name: "X", Status: active, Terms: "NET 90"}, codes.InvalidArgument, "terms"},
		{"credit status", &customerv1.Customer{Name: "X", Status: active, CreditStatus: "MAYBE"}, codes.InvalidArgument, "credit_status"},
		{"name too long", &customerv1.Customer{Status: active, Name: strings.Repeat("n", 51)}, codes.InvalidArgument, "name"},
		{"name not UTF-8", &customerv1.Customer{Status: active, Name: "\xc3"}, codes.InvalidArgument, "name"},
		{"number format", &customerv1.Customer{Name: "X", Status: active, CustomerNumber: "12345"}, codes.InvalidArgument, "customer_number"},
		{"invalid time", &customerv1.Customer{Name: "X", Status: active, AccountDate: &timestamppb.Timestamp{Seconds: -1 << 40}}, codes.InvalidArgument, "account_date"},
		{"number taken", &customerv1.Customer{Name: "X", Status: active, CustomerNumber: "0000000500"}, codes.AlreadyExists, ""},
		{"key taken", &customerv1.Customer{Name: "X", Status: active, CustomerKey: "taken"}, codes.AlreadyExists, ""},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := f.srv.CreateCustomer(f.a, &customerv1.CreateCustomerRequest{Customer: tt.in})
				wantCode(t, err, tt.code, tt.field)
			})
		}
	})
	// A refused create hands out nothing: the next number follows the one
	// taken customer (ids are per tenant and start at 1).
	got := f.create(t, f.a, &customerv1.Customer{Name: "Next", Status: active})
	if got.GetCustomerId() != 2 || got.GetCustomerNumber() != "0000000001" {
		t.Errorf("next customer = id %d number %s, want id 2 number 0000000001", got.GetCustomerId(), got.GetCustomerNumber())
	}
}

func TestGeneratedNumbersSkipTakenOnes(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	var got []string
	for _, given := range []string{"", "0000000003", "0000000004", "", "", "", "0000000010", ""} {
		got = append(got, f.create(t, f.a, &customerv1.Customer{Name: "N", Status: active, CustomerNumber: given}).GetCustomerNumber())
	}
	want := []string{"0000000001", "0000000003", "0000000004", "0000000002", "0000000005", "0000000006", "0000000010", "0000000007"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("numbers (-want +got):\n%s", diff)
	}
}

func TestLookupCustomer(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	acme := f.create(t, f.a, &customerv1.Customer{Name: "Acme", Status: active, CustomerKey: "acme"})
	f.create(t, f.a, &customerv1.Customer{Name: "Twin", Status: active})
	f.create(t, f.a, &customerv1.Customer{Name: "Twin", Status: inactive})

	tests := []struct {
		name string
		req  *customerv1.LookupCustomerRequest
		code codes.Code
	}{
		{"by key", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerKey{CustomerKey: "acme"}}, codes.OK},
		{"by number", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: acme.GetCustomerNumber()}}, codes.OK},
		{"by name", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: "Acme"}}, codes.OK},
		{"name is exact", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: "acme"}}, codes.NotFound},
		{"ambiguous name", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: "Twin"}}, codes.FailedPrecondition},
		{"unknown key", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerKey{CustomerKey: "nobody"}}, codes.NotFound},
		{"unknown number", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: "0000009999"}}, codes.NotFound},
		{"bad number", &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: "12"}}, codes.InvalidArgument},
		{"nothing", &customerv1.LookupCustomerRequest{}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := f.srv.LookupCustomer(f.a, tt.req)
			wantCode(t, err, tt.code, "")
			if tt.code != codes.OK {
				return
			}
			if diff := cmp.Diff(acme, resp.GetCustomer(), protocmp.Transform()); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateCustomer(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	f.create(t, f.a, &customerv1.Customer{Name: "Other", Status: active, CustomerNumber: "0000000777"})

	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	tests := []struct {
		name string
		// change is applied to the created customer to form the request.
		change func(c *customerv1.Customer)
		mask   *fieldmaskpb.FieldMask
		code   codes.Code
		field  string
		// want is applied to the created customer to form the expected
		// answer (besides version and modify_time).
		want func(c *customerv1.Customer)
	}{
		{
			name: "named fields only",
			change: func(c *customerv1.Customer) {
				c.Name, c.Territory, c.CreditLimit, c.Phone = "Renamed", "EAST", "25.50", "ignored"
			},
			mask: mask("name", "territory", "credit_limit"),
			want: func(c *customerv1.Customer) { c.Name, c.Territory, c.CreditLimit = "Renamed", "EAST", "25.5" },
		},
		{
			name:   "unnamed garbage is ignored",
			change: func(c *customerv1.Customer) { c.Name, c.CreditLimit, c.Status = "New", "not a number", 99 },
			mask:   mask("name"),
			want:   func(c *customerv1.Customer) { c.Name = "New" },
		},
		{
			name:   "version zero updates whatever the version",
			change: func(c *customerv1.Customer) { c.Version, c.Status = 0, inactive },
			mask:   mask("status"),
			want:   func(c *customerv1.Customer) { c.Status = inactive },
		},
		{
			name:   "clear key and times",
			change: func(c *customerv1.Customer) { c.CustomerKey, c.AccountDate = "", nil },
			mask:   mask("customer_key", "account_date"),
			want:   func(c *customerv1.Customer) { c.CustomerKey, c.AccountDate = "", nil },
		},
		{
			name:   "renumber",
			change: func(c *customerv1.Customer) { c.CustomerNumber = "0000000900" },
			mask:   mask("customer_number"),
			want:   func(c *customerv1.Customer) { c.CustomerNumber = "0000000900" },
		},
		{name: "stale version", change: func(c *customerv1.Customer) { c.Version, c.Name = 7, "Late" }, mask: mask("name"), code: codes.Aborted},
		{name: "not found", change: func(c *customerv1.Customer) { c.CustomerId = 9999 }, mask: mask("name"), code: codes.NotFound},
		{name: "unknown path", change: func(*customerv1.Customer) {}, mask: mask("colour"), code: codes.InvalidArgument, field: "update_mask"},
		{name: "output only path", change: func(*customerv1.Customer) {}, mask: mask("create_time"), code: codes.InvalidArgument, field: "update_mask"},
		{
			name:   "version in the mask is the precondition, not a change",
			change: func(c *customerv1.Customer) { c.Name = "Checked" },
			mask:   mask("version", "name"),
			want:   func(c *customerv1.Customer) { c.Name = "Checked" },
		},
		{name: "version alone changes nothing", change: func(*customerv1.Customer) {}, mask: mask("version"), code: codes.InvalidArgument, field: "update_mask"},
		{name: "empty mask", change: func(*customerv1.Customer) {}, mask: mask(), code: codes.InvalidArgument, field: "update_mask"},
		{name: "no mask", change: func(*customerv1.Customer) {}, code: codes.InvalidArgument, field: "update_mask"},
		{name: "negative credit limit", change: func(c *customerv1.Customer) { c.CreditLimit = "-5" }, mask: mask("credit_limit"), code: codes.InvalidArgument, field: "credit_limit"},
		{name: "terms not listed", change: func(c *customerv1.Customer) { c.Terms = "NET 99" }, mask: mask("terms"), code: codes.InvalidArgument, field: "terms"},
		{name: "status cleared", change: func(c *customerv1.Customer) { c.Status = 0 }, mask: mask("status"), code: codes.InvalidArgument, field: "status"},
		{name: "number cleared", change: func(c *customerv1.Customer) { c.CustomerNumber = "" }, mask: mask("customer_number"), code: codes.InvalidArgument, field: "customer_number"},
		{name: "number taken", change: func(c *customerv1.Customer) { c.CustomerNumber = "0000000777" }, mask: mask("customer_number"), code: codes.AlreadyExists},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			created := f.create(t, f.a, &customerv1.Customer{
				Name: "Orig", Status: active, CustomerKey: fmt.Sprintf("key%d", i), Phone: "555",
				CreditLimit: "1", AccountDate: ts(2014, 11, 19),
			})
			req := proto.Clone(created).(*customerv1.Customer)
			tt.change(req)
			resp, err := f.srv.UpdateCustomer(f.a, &customerv1.UpdateCustomerRequest{Customer: req, UpdateMask: tt.mask})
			wantCode(t, err, tt.code, tt.field)
			after, gerr := f.srv.GetCustomer(f.a, &customerv1.GetCustomerRequest{CustomerId: created.GetCustomerId()})
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.code != codes.OK {
				if diff := cmp.Diff(created, after.GetCustomer(), protocmp.Transform()); diff != "" {
					t.Errorf("a refused update changed the customer (-before +after):\n%s", diff)
				}
				return
			}
			want := proto.Clone(created).(*customerv1.Customer)
			tt.want(want)
			want.Version = 2
			got := resp.GetCustomer()
			if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&customerv1.Customer{}, "modify_time")); diff != "" {
				t.Errorf("updated customer (-want +got):\n%s", diff)
			}
			if got.GetModifyTime() == nil {
				t.Error("modify_time not set")
			}
			if diff := cmp.Diff(got, after.GetCustomer(), protocmp.Transform()); diff != "" {
				t.Errorf("GetCustomer differs from the update answer (-update +get):\n%s", diff)
			}
		})
	}
}

// TestUpdateDatesTheChange: an update stamps modify_time with now, unless
// it names modify_time (MANEX Edit's modifieddate), whose value then wins.
func TestUpdateDatesTheChange(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	c := f.create(t, f.a, &customerv1.Customer{Name: "Dated", Status: active})
	update := func(change *customerv1.Customer, paths ...string) *customerv1.Customer {
		t.Helper()
		change.CustomerId = c.GetCustomerId()
		resp, err := f.srv.UpdateCustomer(f.a, &customerv1.UpdateCustomerRequest{Customer: change, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetCustomer()
	}
	before := time.Now().Add(-time.Minute)
	if got := update(&customerv1.Customer{Name: "Now"}, "name").GetModifyTime().AsTime(); got.Before(before) {
		t.Errorf("modify_time = %v, want about now", got)
	}
	given := ts(2014, 11, 19)
	got := update(&customerv1.Customer{Name: "Then", ModifyTime: given}, "name", "modify_time")
	if diff := cmp.Diff(given, got.GetModifyTime(), protocmp.Transform()); diff != "" || got.GetName() != "Then" || got.GetVersion() != 3 {
		t.Errorf("dated update: name %q version %d modify_time diff (-want +got):\n%s", got.GetName(), got.GetVersion(), diff)
	}
	// Named without a value: now.
	if got := update(&customerv1.Customer{}, "modify_time").GetModifyTime().AsTime(); got.Before(before) {
		t.Errorf("modify_time named without a value = %v, want about now", got)
	}
}

func TestListCustomers(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	for _, c := range []*customerv1.Customer{
		{Name: "Acme", Status: active, Territory: "EAST"},        // 1
		{Name: "Acme West", Status: inactive, Territory: "WEST"}, // 2
		{Name: "acme lower", Status: active, Territory: "EAST"},  // 3
		{Name: "50% off", Status: quote},                         // 4
		{Name: "500 club", Status: active},                       // 5
		{Name: "A_B", Status: active, Territory: "EAST"},         // 6
		{Name: "AxB", Status: active},                            // 7
		{Name: `back\slash`, Status: active},                     // 8
	} {
		f.create(t, f.a, c)
	}
	f.create(t, f.b, &customerv1.Customer{Name: "Acme", Status: active, Territory: "EAST"})

	tests := []struct {
		name string
		req  *customerv1.ListCustomersRequest
		want []int32
	}{
		{"all, pages of 3", &customerv1.ListCustomersRequest{PageSize: 3}, []int32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"all, default size", &customerv1.ListCustomersRequest{}, []int32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"status", &customerv1.ListCustomersRequest{PageSize: 2, Status: active}, []int32{1, 3, 5, 6, 7, 8}},
		{"territory", &customerv1.ListCustomersRequest{PageSize: 1, Territory: "EAST"}, []int32{1, 3, 6}},
		{"status and territory", &customerv1.ListCustomersRequest{Status: inactive, Territory: "WEST"}, []int32{2}},
		{"prefix is case sensitive", &customerv1.ListCustomersRequest{PageSize: 1, NamePrefix: "Acme"}, []int32{1, 2}},
		{"percent is literal", &customerv1.ListCustomersRequest{NamePrefix: "50%"}, []int32{4}},
		{"underscore is literal", &customerv1.ListCustomersRequest{NamePrefix: "A_"}, []int32{6}},
		{"backslash is literal", &customerv1.ListCustomersRequest{NamePrefix: `back\`}, []int32{8}},
		{"no match", &customerv1.ListCustomersRequest{NamePrefix: "Zed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []int32
			req := proto.Clone(tt.req).(*customerv1.ListCustomersRequest)
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("pagination does not end")
				}
				resp, err := f.srv.ListCustomers(f.a, req)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range resp.GetCustomers() {
					got = append(got, c.GetCustomerId())
				}
				if resp.GetNextPageToken() == "" {
					break
				}
				req.PageToken = resp.GetNextPageToken()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("token of another query", func(t *testing.T) {
		t.Parallel()
		resp, err := f.srv.ListCustomers(f.a, &customerv1.ListCustomersRequest{PageSize: 1, Status: active})
		if err != nil || resp.GetNextPageToken() == "" {
			t.Fatalf("first page: %v, token %q", err, resp.GetNextPageToken())
		}
		_, err = f.srv.ListCustomers(f.a, &customerv1.ListCustomersRequest{PageSize: 1, Status: quote, PageToken: resp.GetNextPageToken()})
		wantCode(t, err, codes.InvalidArgument, "page_token")
		// The page size may change between pages.
		if _, err = f.srv.ListCustomers(f.a, &customerv1.ListCustomersRequest{PageSize: 5, Status: active, PageToken: resp.GetNextPageToken()}); err != nil {
			t.Errorf("same query, other page size: %v", err)
		}
	})
	t.Run("malformed token", func(t *testing.T) {
		t.Parallel()
		_, err := f.srv.ListCustomers(f.a, &customerv1.ListCustomersRequest{PageToken: "not a token"})
		wantCode(t, err, codes.InvalidArgument, "page_token")
	})
}

func TestCustomerExtended(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	c := f.create(t, f.a, &customerv1.Customer{Name: "Ext", Status: active})
	id := c.GetCustomerId()
	patch := func(group, rec int32, fields *customerv1.ExtendedFields, paths ...string) (*customerv1.CustomerExtended, error) {
		resp, err := f.srv.UpdateCustomerExtended(f.a, &customerv1.UpdateCustomerExtendedRequest{
			CustomerId: id, ExtendedGroupId: group, CustomerExtendedId: rec,
			Fields: fields, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
		return resp.GetExtended(), err
	}
	ignoreTime := protocmp.IgnoreFields(&customerv1.CustomerExtended{}, "update_time")

	// Creating: only the named fields are written, the rest are empty.
	got, err := patch(1, 1, &customerv1.ExtendedFields{Field1: "one", Field7: "seven", Field30: "not named"}, "field1", "field7")
	if err != nil {
		t.Fatal(err)
	}
	want := &customerv1.CustomerExtended{CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1, Version: 1,
		Fields: &customerv1.ExtendedFields{Field1: "one", Field7: "seven"}}
	if diff := cmp.Diff(want, got, protocmp.Transform(), ignoreTime); diff != "" {
		t.Errorf("created record (-want +got):\n%s", diff)
	}

	// Patching: field7 changes, field1 keeps its value although the request
	// carries another one, field2 is set.
	got, err = patch(1, 1, &customerv1.ExtendedFields{Field1: "changed?", Field2: "two", Field7: "SEVEN"}, "field7", "field2")
	if err != nil {
		t.Fatal(err)
	}
	want = &customerv1.CustomerExtended{CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1, Version: 2,
		Fields: &customerv1.ExtendedFields{Field1: "one", Field2: "two", Field7: "SEVEN"}}
	if diff := cmp.Diff(want, got, protocmp.Transform(), ignoreTime); diff != "" {
		t.Errorf("patched record (-want +got):\n%s", diff)
	}
	// Clearing a field is naming it with an empty value.
	if got, err = patch(1, 1, &customerv1.ExtendedFields{}, "field1"); err != nil || got.GetFields().GetField1() != "" || got.GetFields().GetField2() != "two" {
		t.Fatalf("clear field1: %v, %v", got, err)
	}
	read, err := f.srv.GetCustomerExtended(f.a, &customerv1.GetCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read.GetExtended(), protocmp.Transform()); diff != "" {
		t.Errorf("GetCustomerExtended differs from the patch answer (-patch +get):\n%s", diff)
	}

	for _, key := range [][2]int32{{2, 5}, {1, 3}, {2, 1}, {3, 1}} {
		if _, err := patch(key[0], key[1], &customerv1.ExtendedFields{Field3: "x"}, "field3"); err != nil {
			t.Fatal(err)
		}
	}
	list := func(group, size int32) [][2]int32 {
		t.Helper()
		var keys [][2]int32
		req := &customerv1.ListCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: group, PageSize: size}
		for {
			resp, err := f.srv.ListCustomerExtended(f.a, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range resp.GetExtended() {
				keys = append(keys, [2]int32{e.GetExtendedGroupId(), e.GetCustomerExtendedId()})
			}
			if resp.GetNextPageToken() == "" {
				return keys
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	if diff := cmp.Diff([][2]int32{{1, 1}, {1, 3}, {2, 1}, {2, 5}, {3, 1}}, list(0, 2)); diff != "" {
		t.Errorf("all records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]int32{{2, 1}, {2, 5}}, list(2, 1)); diff != "" {
		t.Errorf("group 2 (-want +got):\n%s", diff)
	}

	errTests := []struct {
		name  string
		run   func() error
		code  codes.Code
		field string
	}{
		{"unknown field", func() error { _, err := patch(1, 1, &customerv1.ExtendedFields{}, "field31"); return err }, codes.InvalidArgument, "update_mask"},
		{"not a field", func() error { _, err := patch(1, 1, &customerv1.ExtendedFields{}, "name"); return err }, codes.InvalidArgument, "update_mask"},
		{"empty mask", func() error { _, err := patch(1, 1, &customerv1.ExtendedFields{}); return err }, codes.InvalidArgument, "update_mask"},
		{"field too long", func() error {
			_, err := patch(1, 1, &customerv1.ExtendedFields{Field4: strings.Repeat("x", 4001)}, "field4")
			return err
		}, codes.InvalidArgument, "field4"},
		{"no such customer", func() error {
			_, err := f.srv.UpdateCustomerExtended(f.a, &customerv1.UpdateCustomerExtendedRequest{
				CustomerId: 999, ExtendedGroupId: 1, CustomerExtendedId: 1,
				Fields: &customerv1.ExtendedFields{Field1: "x"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"field1"}},
			})
			return err
		}, codes.NotFound, ""},
		{"no such record", func() error {
			_, err := f.srv.GetCustomerExtended(f.a, &customerv1.GetCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: 9, CustomerExtendedId: 9})
			return err
		}, codes.NotFound, ""},
		{"list of no such customer", func() error {
			_, err := f.srv.ListCustomerExtended(f.a, &customerv1.ListCustomerExtendedRequest{CustomerId: 999})
			return err
		}, codes.NotFound, ""},
		{"token of another group", func() error {
			resp, err := f.srv.ListCustomerExtended(f.a, &customerv1.ListCustomerExtendedRequest{CustomerId: id, PageSize: 1})
			if err != nil {
				return err
			}
			_, err = f.srv.ListCustomerExtended(f.a, &customerv1.ListCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: 2, PageToken: resp.GetNextPageToken()})
			return err
		}, codes.InvalidArgument, "page_token"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.run(), tt.code, tt.field)
		})
	}
}

// TestTenantIsolation: nothing of tenant A is visible or changeable as
// tenant B, whatever ids B sends.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	c := f.create(t, f.a, &customerv1.Customer{Name: "Secret", Status: active, CustomerKey: "secret"})
	id := c.GetCustomerId()
	if _, err := f.srv.UpdateCustomerExtended(f.a, &customerv1.UpdateCustomerExtendedRequest{
		CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1,
		Fields: &customerv1.ExtendedFields{Field1: "a"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"field1"}},
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		mutates bool
		run     func(ctx context.Context) error
	}{
		{"get", false, func(ctx context.Context) error {
			_, err := f.srv.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: id})
			return err
		}},
		{"lookup by key", false, func(ctx context.Context) error {
			_, err := f.srv.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerKey{CustomerKey: "secret"}})
			return err
		}},
		{"lookup by number", false, func(ctx context.Context) error {
			_, err := f.srv.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: c.GetCustomerNumber()}})
			return err
		}},
		{"lookup by name", false, func(ctx context.Context) error {
			_, err := f.srv.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: "Secret"}})
			return err
		}},
		{"update", true, func(ctx context.Context) error {
			_, err := f.srv.UpdateCustomer(ctx, &customerv1.UpdateCustomerRequest{
				Customer: &customerv1.Customer{CustomerId: id, Name: "Stolen"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
			})
			return err
		}},
		{"get extended", false, func(ctx context.Context) error {
			_, err := f.srv.GetCustomerExtended(ctx, &customerv1.GetCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1})
			return err
		}},
		{"list extended", false, func(ctx context.Context) error {
			_, err := f.srv.ListCustomerExtended(ctx, &customerv1.ListCustomerExtendedRequest{CustomerId: id})
			return err
		}},
		{"patch extended", true, func(ctx context.Context) error {
			_, err := f.srv.UpdateCustomerExtended(ctx, &customerv1.UpdateCustomerExtendedRequest{
				CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1,
				Fields: &customerv1.ExtendedFields{Field1: "b"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"field1"}},
			})
			return err
		}},
	}
	t.Run("as tenant B", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				wantCode(t, tt.run(f.b), codes.NotFound, "")
				if tt.mutates {
					return
				}
				if err := tt.run(f.a); err != nil {
					t.Errorf("as the owner: %v", err)
				}
			})
		}
	})
	// B's refused writes left A's data alone.
	after, err := f.srv.GetCustomer(f.a, &customerv1.GetCustomerRequest{CustomerId: id})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, after.GetCustomer(), protocmp.Transform()); diff != "" {
		t.Errorf("customer changed (-before +after):\n%s", diff)
	}
	ext, err := f.srv.GetCustomerExtended(f.a, &customerv1.GetCustomerExtendedRequest{CustomerId: id, ExtendedGroupId: 1, CustomerExtendedId: 1})
	if err != nil || ext.GetExtended().GetFields().GetField1() != "a" || ext.GetExtended().GetVersion() != 1 {
		t.Errorf("extended record = %v, %v; want field1 \"a\" at version 1", ext.GetExtended(), err)
	}

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		resp, err := f.srv.ListCustomers(f.b, &customerv1.ListCustomersRequest{})
		if err != nil || len(resp.GetCustomers()) != 0 {
			t.Errorf("tenant B lists %v, %v; want nothing", resp.GetCustomers(), err)
		}
	})
	t.Run("no tenant", func(t *testing.T) {
		t.Parallel()
		_, err := f.srv.GetCustomer(t.Context(), &customerv1.GetCustomerRequest{CustomerId: id})
		wantCode(t, err, codes.Unauthenticated, "")
	})
}

// TestTenantsCountSeparately: each tenant's ids and numbers start at 1, and
// the same number or key may exist in two tenants.
func TestTenantsCountSeparately(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	a := f.create(t, f.a, &customerv1.Customer{Name: "A", Status: active, CustomerKey: "k"})
	b := f.create(t, f.b, &customerv1.Customer{Name: "B", Status: active, CustomerKey: "k"})
	for _, c := range []*customerv1.Customer{a, b} {
		if c.GetCustomerId() != 1 || c.GetCustomerNumber() != "0000000001" {
			t.Errorf("customer %v: want id 1, number 0000000001", c)
		}
	}
}

// TestConcurrentCreates: creates racing in one tenant never share an id or
// a number.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	const n = 50
	got := make([]*customerv1.Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := f.srv.CreateCustomer(f.a, &customerv1.CreateCustomerRequest{
				Customer: &customerv1.Customer{Name: fmt.Sprintf("c%d", i), Status: active},
			})
			got[i], errs[i] = resp.GetCustomer(), err
		})
	}
	wg.Wait()
	ids, numbers := map[int32]bool{}, map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		ids[got[i].GetCustomerId()] = true
		numbers[got[i].GetCustomerNumber()] = true
	}
	if len(ids) != n || len(numbers) != n {
		t.Errorf("%d creates got %d distinct ids and %d distinct numbers", n, len(ids), len(numbers))
	}
	// Nothing was rolled back, so the counters hand out 1..n without gaps.
	for i := int32(1); i <= n; i++ {
		if !ids[i] || !numbers[fmt.Sprintf("%010d", i)] {
			t.Errorf("id or number %d missing", i)
		}
	}
}

// TestConcurrentCreatesWithGivenNumbers: generated numbers racing with
// numbers callers choose still never collide; a generated create never
// fails, and a given number fails only as ALREADY_EXISTS.
func TestConcurrentCreatesWithGivenNumbers(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	const n = 50
	got := make([]*customerv1.Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := &customerv1.Customer{Name: fmt.Sprintf("c%d", i), Status: active}
			if i%3 == 0 {
				c.CustomerNumber = fmt.Sprintf("%010d", i/2+1) // inside the generated range
			}
			resp, err := f.srv.CreateCustomer(f.a, &customerv1.CreateCustomerRequest{Customer: c})
			got[i], errs[i] = resp.GetCustomer(), err
		})
	}
	wg.Wait()
	ids, numbers := map[int32]bool{}, map[string]bool{}
	created := 0
	for i := range n {
		if errs[i] != nil {
			if i%3 != 0 || status.Code(errs[i]) != codes.AlreadyExists {
				t.Errorf("create %d: %v", i, errs[i])
			}
			continue
		}
		created++
		ids[got[i].GetCustomerId()] = true
		numbers[got[i].GetCustomerNumber()] = true
	}
	if len(ids) != created || len(numbers) != created {
		t.Errorf("%d creates got %d distinct ids and %d distinct numbers", created, len(ids), len(numbers))
	}
}

func FuzzDecodePageToken(f *testing.F) {
	q := pagetoken.Query("customers", "x")
	f.Add(pagetoken.Encode(q, pagePos{ID: 7}), q)
	f.Add("", q)
	f.Add("e30", q)
	f.Add("!!!", "")
	f.Fuzz(func(t *testing.T, tok, query string) {
		pt, err := decodePos(tok, query)
		if err != nil {
			wantCode(t, toStatus(context.Background(), slog.New(slog.DiscardHandler), err), codes.InvalidArgument, "page_token")
			return
		}
		if pt.ID < 0 || pt.Group < 0 {
			t.Fatalf("accepted %+v for query %q", pt, query)
		}
	})
}
