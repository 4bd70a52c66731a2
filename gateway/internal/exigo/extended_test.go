package exigo

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

func TestParseExtended(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantRef  customerRef
		wantReq  *customerv1.UpdateCustomerExtendedRequest
		wantErrs []string
	}{
		{
			name:    "by id, numbers and numeric strings, names any case",
			body:    `{"CUSTOMERID":"7","extendedgroupid":1,"CustomerExtendedID":"2","field1":"a","FIELD30":"","field2":null}`,
			wantRef: customerRef{id: 7},
			wantReq: &customerv1.UpdateCustomerExtendedRequest{ExtendedGroupId: 1, CustomerExtendedId: 2,
				Fields: &customerv1.ExtendedFields{Field1: "a"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"field1", "field30"}}},
		},
		{
			name:    "by key, no fields, unknown properties ignored",
			body:    `{"customerKey":"K7","extendedGroupID":3,"customerExtendedID":4,"colour":"red"}`,
			wantRef: customerRef{key: "K7"},
			wantReq: &customerv1.UpdateCustomerExtendedRequest{ExtendedGroupId: 3, CustomerExtendedId: 4,
				Fields: &customerv1.ExtendedFields{}, UpdateMask: &fieldmaskpb.FieldMask{}},
		},
		{
			name:    "an empty key with an id is the id",
			body:    `{"customerID":7,"customerKey":"","extendedGroupID":1,"customerExtendedID":1}`,
			wantRef: customerRef{id: 7},
			wantReq: &customerv1.UpdateCustomerExtendedRequest{ExtendedGroupId: 1, CustomerExtendedId: 1,
				Fields: &customerv1.ExtendedFields{}, UpdateMask: &fieldmaskpb.FieldMask{}},
		},
		{name: "the seed's example: both ids", body: `{ "customerID": 1, "extendedGroupID": 1, "customerExtendedID": 1, "customerKey": "1" }`,
			wantErrs: []string{errBothIDs}},
		{name: "neither id, nor the others", body: `{}`,
			wantErrs: []string{errNeitherID, "extendedGroupID is required.", "customerExtendedID is required."}},
		{name: "null ids count as absent", body: `{"customerID":null,"customerKey":null,"extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{errNeitherID}},
		{name: "wrong types", body: `{"customerID":true,"extendedGroupID":"one","customerExtendedID":1.5,"field3":4,"field4":{"a":1}}`,
			wantErrs: []string{"customerID must be a positive whole number.", "extendedGroupID must be a positive whole number.",
				"customerExtendedID must be a positive whole number.", "field3 must be a string.", "field4 must be a string."}},
		{name: "zero and negative ids", body: `{"customerID":0,"extendedGroupID":-1,"customerExtendedID":2147483648}`,
			wantErrs: []string{"customerID must be a positive whole number.", "extendedGroupID must be a positive whole number.",
				"customerExtendedID must be a positive whole number."}},
		{name: "key not a string", body: `{"customerKey":7,"extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must be a string.", errNeitherID}},
		{name: "field past field30", body: `{"Field31":"x","customerID":1,"extendedGroupID":1,"customerExtendedID":1,"field0":"y","field1":5}`,
			wantErrs: []string{"field1 must be a string.", "Field31 is not a field of an extended record; they are field1 to field30.",
				"field0 is not a field of an extended record; they are field1 to field30."}},
		{name: "field too long", body: `{"customerID":1,"extendedGroupID":1,"customerExtendedID":1,"field5":"` + strings.Repeat("x", 4001) + `"}`,
			wantErrs: []string{"field5 must be at most 4000 characters."}},
		{name: "field with NUL", body: `{"customerID":1,"extendedGroupID":1,"customerExtendedID":1,"field6":"a\u0000b"}`,
			wantErrs: []string{"field6 must not contain NUL characters."}},
		{
			name:    "fields are free text: line breaks, tabs, bidi controls",
			body:    `{"customerID":7,"extendedGroupID":1,"customerExtendedID":1,"field1":"a\r\nb\tc","field2":"\u202eabc\ufeff"}`,
			wantRef: customerRef{id: 7},
			wantReq: &customerv1.UpdateCustomerExtendedRequest{ExtendedGroupId: 1, CustomerExtendedId: 1,
				Fields:     &customerv1.ExtendedFields{Field1: "a\r\nb\tc", Field2: "\u202eabc\ufeff"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"field1", "field2"}}},
		},
		{name: "key dot dot", body: `{"customerKey":"..","extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must contain only ASCII letters and digits."}},
		{name: "key with a dash and a bad id", body: `{"customerKey":"K-7","extendedGroupID":0,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must contain only ASCII letters and digits.", "extendedGroupID must be a positive whole number."}},
		{name: "key with CR LF", body: `{"customerKey":"K7\r\n","extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must contain only ASCII letters and digits."}},
		{name: "key with right-to-left override", body: `{"customerKey":"\u202e7K","extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must contain only ASCII letters and digits."}},
		{name: "key overlong", body: `{"customerKey":"` + strings.Repeat("k", 51) + `","extendedGroupID":1,"customerExtendedID":1}`,
			wantErrs: []string{"customerKey must be at most 50 characters."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			members, err := jsonbody.Read(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			x, errs := parseExtended(members)
			if diff := cmp.Diff(tt.wantErrs, errs); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if tt.wantErrs != nil {
				return
			}
			if x.ref != tt.wantRef {
				t.Errorf("ref = %+v, want %+v", x.ref, tt.wantRef)
			}
			if diff := cmp.Diff(tt.wantReq, x.req, protocmp.Transform()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseExtended: no body makes the parsing panic; an accepted body
// names exactly one customer, positive ids, and fields the service takes.
func FuzzParseExtended(f *testing.F) {
	for _, s := range []string{
		`{ "customerID": 1, "extendedGroupID": 1, "customerExtendedID": 1, "customerKey": "1" }`,
		`{"customerKey":"K","extendedGroupID":"2","customerExtendedID":3,"field9":"x"}`,
		`{"customerID":-1,"field31":"x","FIELD1":null}`,
		"{\"customerID\":1,\"extendedGroupID\":1,\"customerExtendedID\":1,\"field1\":\"\xc3\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		members, err := jsonbody.Read(strings.NewReader(body))
		if err != nil {
			return
		}
		x, errs := parseExtended(members)
		if len(errs) > 0 {
			for _, e := range errs {
				if !utf8.ValidString(e) || !strings.Contains(e, " ") {
					t.Fatalf("error %q", e)
				}
			}
			return
		}
		if (x.ref.id > 0) == (x.ref.key != "") || x.ref.id < 0 || x.ref.key != "" && textrule.Key(x.ref.key) != "" {
			t.Fatalf("ref %+v", x.ref)
		}
		if x.req.GetExtendedGroupId() <= 0 || x.req.GetCustomerExtendedId() <= 0 || len(x.req.GetUpdateMask().GetPaths()) != x.sent {
			t.Fatalf("request %v", x.req)
		}
		m := x.req.GetFields().ProtoReflect()
		for _, p := range x.req.GetUpdateMask().GetPaths() {
			fd := m.Descriptor().Fields().ByName(protoreflect.Name(p))
			if fd == nil {
				t.Fatalf("path %q", p)
			}
			if v := m.Get(fd).String(); !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || utf8.RuneCountInString(v) > 4000 {
				t.Fatalf("%s = %q accepted", p, v)
			}
		}
	})
}
