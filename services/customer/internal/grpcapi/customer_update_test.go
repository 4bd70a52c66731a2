package grpcapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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
