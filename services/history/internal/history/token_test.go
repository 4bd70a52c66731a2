package history

import (
	"testing"
	"time"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	web := int32(2)
	f := Filter{CustomerID: 4, WebsiteID: &web}
	fp := fingerprint("tenant-a", f)
	pos := store.Position{UpdatedAt: time.Date(2012, 4, 6, 13, 50, 33, 123456000, time.UTC), HistoryID: 1 << 40}
	got, err := decodeToken(encodeToken(fp, pos), fp)
	if err != nil || !got.UpdatedAt.Equal(pos.UpdatedAt) || got.HistoryID != pos.HistoryID {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, pos)
	}
	// Every part of the query is in the fingerprint.
	other := []Filter{{CustomerID: 5, WebsiteID: &web}, {CustomerID: 4}, {CustomerID: 4, WebsiteID: &web, Currency: "USD"},
		{CustomerID: 4, WebsiteID: &web, Start: &pos.UpdatedAt}, {CustomerID: 4, WebsiteID: &web, End: &pos.UpdatedAt}}
	for _, o := range other {
		if fingerprint("tenant-a", o) == fp {
			t.Errorf("filter %+v has the fingerprint of %+v", o, f)
		}
	}
	if fingerprint("tenant-b", f) == fp {
		t.Error("another tenant has the same fingerprint")
	}
}

// FuzzDecodeToken: a page token is outside input; no token makes the decoder
// panic, and a token it accepts names the position it encodes.
func FuzzDecodeToken(f *testing.F) {
	fp := fingerprint("t", Filter{CustomerID: 1})
	f.Add(encodeToken(fp, store.Position{UpdatedAt: time.Unix(1, 0), HistoryID: 7}))
	f.Add("")
	f.Add("AQ")
	f.Add("!!!!")
	f.Fuzz(func(t *testing.T, token string) {
		pos, err := decodeToken(token, fp)
		if err != nil {
			return
		}
		if again := encodeToken(fp, pos); again != token {
			t.Errorf("accepted %q but it encodes back as %q", token, again)
		}
	})
}
