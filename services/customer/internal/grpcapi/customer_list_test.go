package grpcapi

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
)

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
