package grpcapi

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/record"
)

// TestConvertEveryField: every Customer field survives the trip through
// the record and back, so an attribute added to the proto and the record
// but not to convert.go fails here. And the record's db tags are exactly
// the proto's field names, which the domain's rules and update masks use.
func TestConvertEveryField(t *testing.T) {
	t.Parallel()
	p := &customerv1.Customer{}
	m := p.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.Name() == "create_time":
			// Output only: customerFromProto drops it.
		case fd.Kind() == protoreflect.StringKind:
			// A number is a good value for text and decimals alike.
			m.Set(fd, protoreflect.ValueOfString(strconv.Itoa(i+1)))
		case fd.Kind() == protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(true))
		case fd.Kind() == protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE.Number()))
		case fd.Kind() == protoreflect.Int32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(int32(i+1)))
		case fd.Kind() == protoreflect.Int64Kind:
			m.Set(fd, protoreflect.ValueOfInt64(int64(i+1)))
		case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Timestamp":
			ts := timestamppb.New(time.Date(2000+i, 1, 2, 3, 4, 5, 6000, time.UTC))
			m.Set(fd, protoreflect.ValueOfMessage(ts.ProtoReflect()))
		default:
			t.Fatalf("no test value for %s", fd.FullName())
		}
	}
	c, err := customerFromProto(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := customerToProto(c)
	got.CreateTime = nil
	if diff := cmp.Diff(p, got, protocmp.Transform()); diff != "" {
		t.Errorf("round trip (-sent +got):\n%s", diff)
	}

	columns := map[string]bool{}
	rt := reflect.TypeFor[record.Customer]()
	for i := range rt.NumField() {
		name := rt.Field(i).Tag.Get("db")
		columns[name] = true
		if fields.ByName(protoreflect.Name(name)) == nil {
			t.Errorf("record.Customer.%s: abacus.customer.v1.Customer has no field %q", rt.Field(i).Name, name)
		}
	}
	for i := range fields.Len() {
		if name := string(fields.Get(i).Name()); !columns[name] {
			t.Errorf("abacus.customer.v1.Customer.%s has no record.Customer field", name)
		}
	}
}
