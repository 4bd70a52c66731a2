package grpcapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// wantViolation fails t unless err is INVALID_ARGUMENT whose BadRequest
// detail names field with the rule want.
func wantViolation(t *testing.T, err error, field, want string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("error = %v, want INVALID_ARGUMENT", err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
			v := br.GetFieldViolations()[0]
			if v.GetField() != field || v.GetDescription() != want {
				t.Fatalf("violation %s: %q, want %s: %q", v.GetField(), v.GetDescription(), field, want)
			}
			return
		}
	}
	t.Fatalf("error %v has no BadRequest detail", err)
}

const (
	ruleBlank    = "must not be empty or only spaces"
	ruleKeyChars = "must contain only ASCII letters and digits"
)

func ruleFound(cp string) string {
	return "must not contain control or invisible formatting characters (found " + cp + ")"
}

// Names and keys break one rule whichever call carries them: creates,
// updates, lookups and list filters are refused with the field named, and
// nothing is stored; names in any script still pass.
func TestNamesAndKeys(t *testing.T) {
	t.Parallel()
	f := newCustomerFixture(t)
	acme := f.create(t, f.a, &customerv1.Customer{Name: "Acme", Status: active, CustomerKey: "acme1"})

	named := func(name string) *customerv1.Customer { return &customerv1.Customer{Name: name, Status: active} }
	keyed := func(key string) *customerv1.Customer {
		return &customerv1.Customer{Name: "Keyed", Status: active, CustomerKey: key}
	}
	refused := []struct {
		name        string
		in          *customerv1.Customer
		field, rule string
	}{
		{"name empty", named(""), "name", ruleBlank},
		{"name only spaces", named("   "), "name", ruleBlank},
		{"name only ideographic spaces", named("\u3000\u3000"), "name", ruleBlank},
		{"name with CR LF", named("Acme\r\nCorp"), "name", ruleFound("U+000D")},
		{"name with LF", named("Acme\n"), "name", ruleFound("U+000A")},
		{"name with TAB", named("Acme\tCorp"), "name", ruleFound("U+0009")},
		{"name with right-to-left override", named("Acme\u202eproC"), "name", ruleFound("U+202E")},
		{"name with byte order mark", named("\ufeffAcme"), "name", ruleFound("U+FEFF")},
		{"name with zero-width space", named("Ac\u200bme"), "name", ruleFound("U+200B")},
		{"name invalid UTF-8", named("Soci\xc3"), "name", "must be valid UTF-8"},
		{"key dot dot", keyed(".."), "customer_key", ruleKeyChars},
		{"key with a dash", keyed("acme-1"), "customer_key", ruleKeyChars},
		{"key with CR LF", keyed("k\r\n"), "customer_key", ruleKeyChars},
		{"key with right-to-left override", keyed("k\u202e1"), "customer_key", ruleKeyChars},
		{"key with byte order mark", keyed("\ufeffk1"), "customer_key", ruleKeyChars},
		{"phone with TAB", &customerv1.Customer{Name: "P", Status: active, Phone: "555\t0100"}, "phone", ruleFound("U+0009")},
		{"initials with byte order mark", &customerv1.Customer{Name: "I", Status: active, InactiveInitials: "\ufeffJD"}, "inactive_initials", ruleFound("U+FEFF")},
	}
	t.Run("create", func(t *testing.T) {
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := f.srv.CreateCustomer(f.a, &customerv1.CreateCustomerRequest{Customer: tt.in})
				wantViolation(t, err, tt.field, tt.rule)
			})
		}
	})
	t.Run("update", func(t *testing.T) {
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				in := proto.Clone(tt.in).(*customerv1.Customer)
				in.CustomerId = acme.GetCustomerId()
				_, err := f.srv.UpdateCustomer(f.a, &customerv1.UpdateCustomerRequest{
					Customer: in, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{tt.field}},
				})
				wantViolation(t, err, tt.field, tt.rule)
			})
		}
	})
	t.Run("lookup and list", func(t *testing.T) {
		byName := func(n string) *customerv1.LookupCustomerRequest {
			return &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: n}}
		}
		byKey := func(k string) *customerv1.LookupCustomerRequest {
			return &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerKey{CustomerKey: k}}
		}
		for _, tt := range []struct {
			name        string
			call        func() error
			field, rule string
		}{
			{"by name of spaces", func() error { _, err := f.srv.LookupCustomer(f.a, byName("  ")); return err }, "name", ruleBlank},
			{"by name with TAB", func() error { _, err := f.srv.LookupCustomer(f.a, byName("Acme\t")); return err }, "name", ruleFound("U+0009")},
			{"by key dot dot", func() error { _, err := f.srv.LookupCustomer(f.a, byKey("..")); return err }, "customer_key", ruleKeyChars},
			{"by key with LF", func() error { _, err := f.srv.LookupCustomer(f.a, byKey("acme1\n")); return err }, "customer_key", ruleKeyChars},
			{"name prefix with LF", func() error {
				_, err := f.srv.ListCustomers(f.a, &customerv1.ListCustomersRequest{NamePrefix: "Ac\n"})
				return err
			}, "name_prefix", ruleFound("U+000A")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				wantViolation(t, tt.call(), tt.field, tt.rule)
			})
		}
	})

	// Accepted names keep every character, and their customers are found
	// by them; the refusals above stored nothing.
	var ids []int32
	for _, c := range []*customerv1.Customer{
		{Name: "Société Générale", Status: active, CustomerKey: "1"},
		{Name: "株式会社東京", Status: active, CustomerKey: "ABC123xyz"},
		{Name: "می\u200cخواهم", Status: active},
		{Name: " Padded ", Status: active},
	} {
		got := f.create(t, f.a, c)
		found, err := f.srv.LookupCustomer(f.a, &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: c.GetName()}})
		if err != nil || found.GetCustomer().GetName() != c.GetName() || found.GetCustomer().GetCustomerKey() != c.GetCustomerKey() {
			t.Errorf("customer %+q: lookup = %v, %v", c.GetName(), found.GetCustomer(), err)
		}
		ids = append(ids, got.GetCustomerId())
	}
	if diff := cmp.Diff([]int32{2, 3, 4, 5}, ids); diff != "" {
		t.Errorf("ids of the accepted customers (-want +got):\n%s", diff)
	}
	got, err := f.srv.GetCustomer(f.a, &customerv1.GetCustomerRequest{CustomerId: acme.GetCustomerId()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(acme, got.GetCustomer(), protocmp.Transform()); diff != "" {
		t.Errorf("refused updates changed customer 1 (-before +after):\n%s", diff)
	}
}
