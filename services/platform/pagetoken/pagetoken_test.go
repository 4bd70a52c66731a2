package pagetoken

import (
	"errors"
	"testing"

	"github.com/abacus-ledger/abacus/services/platform/fielderr"
)

type pos struct {
	Group int32 `json:"g"`
	ID    int32 `json:"id"`
}

func TestRoundTripAndRefusals(t *testing.T) {
	t.Parallel()
	q := Query("customers", "tenant-a", "ACTIVE")
	tok := Encode(q, pos{Group: 2, ID: 41})
	got, err := Decode[pos](tok, q)
	if err != nil || got != (pos{2, 41}) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for name, tc := range map[string]struct{ token, query string }{
		"another tenant":   {tok, Query("customers", "tenant-b", "ACTIVE")},
		"another filter":   {tok, Query("customers", "tenant-a", "QUOTE")},
		"not base64":       {"***", q},
		"not JSON":         {"bm90IGpzb24", q},
		"padded base64":    {tok + "==", q},
		"wrong field type": {Encode(q, map[string]string{"id": "x"}), q},
	} {
		if _, err := Decode[pos](tc.token, tc.query); !errors.Is(err, fielderr.ErrInvalid) {
			t.Errorf("%s: err = %v, want a page_token field error", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	q := Query("x")
	f.Add(Encode(q, pos{1, 2}))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := Decode[pos](token, q); err != nil && !errors.Is(err, fielderr.ErrInvalid) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
