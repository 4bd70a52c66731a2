package grpcapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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
