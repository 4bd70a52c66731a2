package grpcapi

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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
