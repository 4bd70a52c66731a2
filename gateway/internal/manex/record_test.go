package manex

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// The record's values take the seed's JSON types: decimals as numbers with
// their exact digits, dates in the Get example's form, null when unset.
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
		`"ACCT_DATE":"2014-11-19T13:27:49.25"`, `"AR_CALDATE":null`, `"UserId":"u1"`, `"LinkAddList":null}`,
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

// Add and Get write every date of a record alike, in the Get example's
// form, and Edit's ISO form reads that text back as the same instant: what
// one action answers, another accepts and answers again unchanged.
func TestRecordDatesAgree(t *testing.T) {
	t.Parallel()
	for _, at := range []time.Time{
		time.Date(2014, 11, 19, 13, 28, 0, 0, time.UTC),
		time.Date(2014, 11, 19, 13, 27, 49, 250000000, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		// An instant given in another zone is written as its UTC wall clock.
		time.Date(2014, 11, 19, 10, 9, 57, 41868000, time.FixedZone("EST", -5*3600)),
	} {
		ts := timestamppb.New(at)
		c := &customerv1.Customer{AccountDate: ts, ArCallTime: ts, InactiveTime: ts, ModifyTime: ts}
		add, get := members(addRecord(c)), members(getRecord(c))
		for _, key := range []string{"ACCT_DATE", "AR_CALDATE", "INACTDT", "modifiedDate"} {
			a, g := add[key], get[key]
			if a != g {
				t.Errorf("%v: %s is %v in Add, %v in Get", at, key, a, g)
			}
			s, _ := g.(string)
			back, ok := parseDateTime(s)
			if !ok || !back.Equal(at) || strings.ContainsAny(s[10:], "+-Z") {
				t.Errorf("%v: %s = %q reads back as %v, %v; want the same instant, without a zone", at, key, s, back, ok)
			}
		}
	}
	unset := members(addRecord(&customerv1.Customer{}))
	if unset["ACCT_DATE"] != nil || members(getRecord(&customerv1.Customer{}))["ACCT_DATE"] != nil {
		t.Errorf("an unset date is %v, want null", unset["ACCT_DATE"])
	}
}

func members(o Object) map[string]any {
	m := make(map[string]any, len(o))
	for _, mb := range o {
		m[mb.Key] = mb.Value
	}
	return m
}
