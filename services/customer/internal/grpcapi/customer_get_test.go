package grpcapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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
