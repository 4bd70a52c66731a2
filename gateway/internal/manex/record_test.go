package manex

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// The record's values take the seed's JSON types: decimals as numbers with
// their exact digits, dates in the Add or the Get form, null when unset.
func TestRecordValues(t *testing.T) {
	t.Parallel()
	at := timestamppb.New(time.Date(2014, 11, 19, 13, 27, 49, 250000000, time.UTC))
	c := &customerv1.Customer{
		CustomerNumber: "0000000010", Name: "Customer", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE,
		CreditLimit: "999999999999999.9999", ArHighBalance: "0.5", AccountDate: at, ModifyTime: at, UserId: "u1", Labor: true,
	}
	add, err := Encode(Object{{"ResponseObject", addRecord(c)}})
	if err != nil {
		t.Fatal(err)
	}
	get, err := Encode(Object{{"ResponseObject", getRecord(c)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"CREDLIMIT":999999999999999.9999`, `"AR_HIGHBAL":0.5`, `"OUT_MARGIN":0`, `"STATUS":"Quote"`, `"LABOR":true`,
		`"ACCT_DATE":"2014-11-19T13:27:49.25+00:00"`, `"AR_CALDATE":null`, `"UserId":"u1"`, `"LinkAddList":null}`,
	} {
		if !contains(add, want) {
			t.Errorf("Add record lacks %s: %s", want, add)
		}
	}
	for _, want := range []string{
		`{"$id":"2","LinkAddList":null,"CUSTNO":"0000000010"`, `"ACCT_DATE":"2014-11-19T13:27:49.25"`,
		`"modifiedDate":"2014-11-19T13:27:49.25"`, `"INACTDT":null`, `"UserId":"u1"}`,
	} {
		if !contains(get, want) {
			t.Errorf("Get record lacks %s: %s", want, get)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
