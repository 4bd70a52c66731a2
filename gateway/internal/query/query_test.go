package query

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query       string
		value       string
		present     bool
		wantRepeats bool
	}{
		{"customerID=7", "7", true, false},
		{"CUSTOMERID=7", "7", true, false},
		{"customerid=", "", true, false},
		{"other=1", "", false, false},
		{"customerID=7&CustomerId=8", "", true, true},
		{"customerID=7&customerID=7", "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			value, present, err := Get(q, "customerID")
			var rep *RepeatedError
			if errors.As(err, &rep) != tt.wantRepeats {
				t.Fatalf("error = %v, want repeated %v", err, tt.wantRepeats)
			}
			if value != tt.value || present != tt.present {
				t.Errorf("Get = %q, %v; want %q, %v", value, present, tt.value, tt.present)
			}
		})
	}
}

func TestLower(t *testing.T) {
	t.Parallel()
	q, _ := url.ParseQuery("CustName=A&STATUS=Active&territory=NEW+ENGLAND")
	got, err := Lower(q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"custname": "A", "status": "Active", "territory": "NEW ENGLAND"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lower mismatch (-want +got):\n%s", diff)
	}
	q, _ = url.ParseQuery("CustName=A&custname=B")
	if _, err := Lower(q); err == nil {
		t.Error("Lower accepted one name in two spellings")
	}
}
