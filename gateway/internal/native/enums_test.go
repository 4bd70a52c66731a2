package native

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func testMarshaler() wireMarshaler {
	return wireMarshaler{&runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// decodeOrdered reads JSON into values whose objects keep their key order,
// so that a comparison sees order too.
func decodeOrdered(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var read func() any
	read = func() any {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, b)
		}
		switch tok {
		case json.Delim('{'):
			var kv []any
			for dec.More() {
				k, _ := dec.Token()
				kv = append(kv, k, read())
			}
			_, _ = dec.Token()
			return kv
		case json.Delim('['):
			items := []any{}
			for dec.More() {
				items = append(items, read())
			}
			_, _ = dec.Token()
			return items
		}
		return tok
	}
	return read()
}

// Answers carry short enum names and are otherwise protojson's, member for
// member and in its order; a string that merely looks like an enum name is
// left alone.
func TestMarshalShortNames(t *testing.T) {
	t.Parallel()
	m := testMarshaler()
	resp := &customerv1.ListCustomersResponse{Customers: []*customerv1.Customer{
		{CustomerId: 1, Name: "CUSTOMER_STATUS_ACTIVE", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE, CreditLimit: "100.50"},
		{CustomerId: 2, Name: "<Quote & Co>", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE},
		{CustomerId: 3, Status: customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED},
		{CustomerId: 4, Status: customerv1.CustomerStatus(7)}, // unknown to this build: a number
	}}
	got, err := m.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.JSONPb.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := string(plain)
	for long, short := range map[string]string{
		`"status":"CUSTOMER_STATUS_ACTIVE"`: `"status":"ACTIVE"`, `"status":"CUSTOMER_STATUS_QUOTE"`: `"status":"QUOTE"`,
		`"status":"CUSTOMER_STATUS_UNSPECIFIED"`: `"status":"UNSPECIFIED"`,
	} {
		want = strings.ReplaceAll(strings.ReplaceAll(want, strings.Replace(long, ":", ": ", 1), short), long, short)
	}
	if diff := cmp.Diff(decodeOrdered(t, []byte(want)), decodeOrdered(t, got)); diff != "" {
		t.Errorf("answer (-want +got):\n%s\n%s", diff, got)
	}
	if !bytes.Contains(got, []byte(`"name":"CUSTOMER_STATUS_ACTIVE"`)) || !bytes.Contains(got, []byte(`"status":7`)) {
		t.Errorf("answer changed more than enum values: %s", got)
	}

	// A message without Abacus enums is JSONPb's, byte for byte.
	entry := &ledgerv1.PostEntryResponse{Replayed: true}
	got, _ = m.Marshal(entry)
	if plain, _ := m.JSONPb.Marshal(entry); !bytes.Equal(got, plain) {
		t.Errorf("message without enums: %s, want %s", got, plain)
	}
}

// Requests may name a value by its short name, its proto name or its
// number; anything else is refused naming the field and the values.
func TestUnmarshalNames(t *testing.T) {
	t.Parallel()
	m := testMarshaler()
	tests := []struct {
		name, body string
		want       *customerv1.Customer
		wantErr    string
	}{
		{"short", `{"name":"A","status":"ACTIVE"}`, &customerv1.Customer{Name: "A", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE}, ""},
		{"proto name", `{"status":"CUSTOMER_STATUS_QUOTE"}`, &customerv1.Customer{Status: customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE}, ""},
		{"number", `{"status":2}`, &customerv1.Customer{Status: customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE}, ""},
		{"number as a string", `{"status":"2"}`, &customerv1.Customer{Status: customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE}, ""},
		{"null", `{"status":null}`, &customerv1.Customer{}, ""},
		{"JSON name of the field", `{"creditLimit":"1.5","status":"INACTIVE"}`,
			&customerv1.Customer{CreditLimit: "1.5", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE}, ""},
		{"name that only looks like a value", `{"name":"QUOTE","status":"QUOTE"}`,
			&customerv1.Customer{Name: "QUOTE", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE}, ""},
		{"unknown value", `{"status":"ENABLED"}`, nil,
			`status: "ENABLED" is not a valid value; use one of UNSPECIFIED, ACTIVE, INACTIVE, QUOTE`},
		{"lower case", `{"status":"active"}`, nil, `status: "active" is not a valid value`},
		{"another enum's value", `{"status":"CREDENTIAL_KIND_MANEX"}`, nil, `status: "CREDENTIAL_KIND_MANEX" is not a valid value`},
		// Other mistakes keep protojson's words.
		{"not JSON", `{"status":`, nil, "unexpected EOF"},
		{"unknown field", `{"status":"ACTIVE","colour":"red"}`, nil, `unknown field "colour"`},
		{"field twice", `{"status":"ACTIVE","status":"QUOTE"}`, nil, `duplicate field "status"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The runtime decodes a body field through a pointer to it
			// (&req.Customer), which starts nil.
			for _, via := range []string{"Unmarshal", "Decoder", "Decoder into a field"} {
				got := &customerv1.Customer{}
				var err error
				switch via {
				case "Unmarshal":
					err = m.Unmarshal([]byte(tt.body), got)
				case "Decoder":
					err = m.NewDecoder(strings.NewReader(tt.body)).Decode(got)
				default:
					var req customerv1.CreateCustomerRequest
					err = m.NewDecoder(strings.NewReader(tt.body)).Decode(&req.Customer)
					got = req.Customer
				}
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("%s: err = %v, want one containing %q", via, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", via, diff)
				}
			}
		})
	}
}

// What the marshaler writes, it reads back as the same message.
func TestShortNamesRoundTrip(t *testing.T) {
	t.Parallel()
	m := testMarshaler()
	for _, s := range []customerv1.CustomerStatus{0, 1, 2, 3} {
		in := &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "R", Status: s}}
		b, err := m.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		out := &customerv1.CreateCustomerRequest{}
		if err := m.Unmarshal(b, out); err != nil || !proto.Equal(in, out) {
			t.Errorf("%v: %s reads back as %v, %v", s, b, out, err)
		}
	}
}

// Query parameters take the same names, and the same refusal.
func TestQueryParserNames(t *testing.T) {
	t.Parallel()
	p := &queryParser{}
	tests := []struct {
		query   string
		want    customerv1.CustomerStatus
		wantErr string
	}{
		{"status=ACTIVE", customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE, ""},
		{"status=CUSTOMER_STATUS_QUOTE", customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE, ""},
		{"status=2", customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE, ""},
		{"status=ACTIVE&territory=EAST", customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE, ""},
		{"territory=ACTIVE", 0, ""},
		{"status=closed", 0, `status: "closed" is not a valid value; use one of UNSPECIFIED, ACTIVE, INACTIVE, QUOTE`},
		{"status=", 0, `status: "" is not a valid value`},
	}
	for _, tt := range tests {
		values, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		before := values.Encode()
		req := &customerv1.ListCustomersRequest{}
		err = p.Parse(req, values, utilities.NewDoubleArray(nil))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want one containing %q", tt.query, err, tt.wantErr)
			}
			continue
		}
		if err != nil || req.GetStatus() != tt.want {
			t.Errorf("%s: status %v, %v; want %v", tt.query, req.GetStatus(), err, tt.want)
		}
		if values.Encode() != before {
			t.Errorf("%s: the caller's values were changed to %s", tt.query, values.Encode())
		}
	}
}
