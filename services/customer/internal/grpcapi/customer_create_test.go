package grpcapi

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

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

// TestConcurrentCreates: creates racing in one tenant never share an id or
// a number.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	const n = 50
	got, errs := createConcurrently(t, n, func(i int) *customerv1.Customer {
		return &customerv1.Customer{Name: fmt.Sprintf("c%d", i), Status: active}
	})
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
	const n = 50
	got, errs := createConcurrently(t, n, func(i int) *customerv1.Customer {
		c := &customerv1.Customer{Name: fmt.Sprintf("c%d", i), Status: active}
		if i%3 == 0 {
			c.CustomerNumber = fmt.Sprintf("%010d", i/2+1) // inside the generated range
		}
		return c
	})
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

// createConcurrently creates n customers of one tenant at once, nth(i)
// the i-th, and returns each answer and error by i.
func createConcurrently(t *testing.T, n int, nth func(i int) *customerv1.Customer) ([]*customerv1.Customer, []error) {
	t.Helper()
	f := newCustomerFixture(t)
	got := make([]*customerv1.Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := f.srv.CreateCustomer(f.a, &customerv1.CreateCustomerRequest{Customer: nth(i)})
			got[i], errs[i] = resp.GetCustomer(), err
		})
	}
	wg.Wait()
	return got, errs
}
