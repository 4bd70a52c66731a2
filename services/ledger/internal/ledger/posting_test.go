package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestDelta(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		kind   Kind
		action int32
		amount string
		want   string // "" for an error
		field  string // of the error
	}{
		{"payment adds", KindPayment, 0, "25.00", "25", ""},
		{"order subtracts", KindOrder, 0, "10", "-10", ""},
		{"adjustment credit", KindAdjustment, 0, "5", "5", ""},
		{"adjustment debit", KindAdjustment, 0, "-5", "-5", ""},
		{"store credit updated +", KindStoreCredit, ActionUpdated, "3", "3", ""},
		{"store credit updated -", KindStoreCredit, ActionUpdated, "-3", "-3", ""},
		{"store credit created -", KindStoreCredit, ActionCreated, "-7.5", "-7.5", ""},
		{"store credit used subtracts", KindStoreCredit, ActionUsed, "4", "-4", ""},
		{"store credit refunded adds", KindStoreCredit, ActionRefunded, "4", "4", ""},
		{"store credit reverted adds", KindStoreCredit, ActionReverted, "4", "4", ""},
		{"negative payment", KindPayment, 0, "-1", "", "amount"},
		{"negative order", KindOrder, 0, "-1", "", "amount"},
		{"negative used", KindStoreCredit, ActionUsed, "-1", "", "amount"},
		{"negative refunded", KindStoreCredit, ActionRefunded, "-1", "", "amount"},
		{"negative reverted", KindStoreCredit, ActionReverted, "-1", "", "amount"},
		{"zero payment", KindPayment, 0, "0.00", "", "amount"},
		{"zero adjustment", KindAdjustment, 0, "-0", "", "amount"},
		{"zero store credit", KindStoreCredit, ActionUpdated, "0", "", "amount"},
		{"action on payment", KindPayment, 3, "1", "", "action"},
		{"action on adjustment", KindAdjustment, 1, "1", "", "action"},
		{"store credit without action", KindStoreCredit, 0, "1", "", "action"},
		{"store credit action 6", KindStoreCredit, 6, "1", "", "action"},
		{"unknown kind", Kind("REFUND"), 0, "1", "", "kind"},
		{"empty kind", Kind(""), 0, "1", "", "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Delta(tc.kind, tc.action, decimal.RequireFromString(tc.amount))
			if tc.want == "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("Delta = %s, %v; want an error on %s", got, err, tc.field)
				}
				return
			}
			if err != nil || !got.Equal(decimal.RequireFromString(tc.want)) {
				t.Fatalf("Delta = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	currencies := map[string]Currency{
		"USD": {"USD", "US Dollar", 2},
		"JPY": {"JPY", "Yen", 0},
		"BHD": {"BHD", "Bahraini Dinar", 3},
	}
	ok := Posting{CustomerID: 1, Currency: "USD", Kind: KindPayment, Amount: "1.00"}
	with := func(change func(*Posting)) Posting {
		p := ok
		change(&p)
		return p
	}
	for _, tc := range []struct {
		name  string
		p     Posting
		field string // "" when valid
	}{
		{"valid", ok, ""},
		{"scale 2", with(func(p *Posting) { p.Amount = "1.23" }), ""},
		{"too many decimals", with(func(p *Posting) { p.Amount = "1.234" }), "postings[2].amount"},
		{"trailing zero beyond scale", with(func(p *Posting) { p.Amount = "1.000" }), "postings[2].amount"},
		{"yen takes no decimals", with(func(p *Posting) { p.Currency, p.Amount = "JPY", "1.0" }), "postings[2].amount"},
		{"yen whole", with(func(p *Posting) { p.Currency, p.Amount = "JPY", "100" }), ""},
		{"dinar three decimals", with(func(p *Posting) { p.Currency, p.Amount = "BHD", "1.005" }), ""},
		{"unknown currency", with(func(p *Posting) { p.Currency = "XXX" }), "postings[2].currency"},
		{"lower-case currency", with(func(p *Posting) { p.Currency = "usd" }), "postings[2].currency"},
		{"float syntax", with(func(p *Posting) { p.Amount = "1e2" }), "postings[2].amount"},
		{"customer 0", with(func(p *Posting) { p.CustomerID = 0 }), "postings[2].customer_id"},
		{"negative website", with(func(p *Posting) { p.WebsiteID = -1 }), "postings[2].website_id"},
		{"NUL in comment", with(func(p *Posting) { p.Comment = "a\x00b" }), "postings[2].comment"},
		{"1000 two-byte characters", with(func(p *Posting) { p.Comment = strings.Repeat("ж", 1000) }), ""},
		{"1001 characters", with(func(p *Posting) { p.Comment = strings.Repeat("a", 1001) }), "postings[2].comment"},
		{"invalid UTF-8 comment", with(func(p *Posting) { p.Comment = "a\xffb" }), "postings[2].comment"},
		{"bad kind", with(func(p *Posting) { p.Kind = "GIFT" }), "postings[2].kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(tc.p, currencies, "postings[2].")
			var fe *FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("validate = %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestRequestHash(t *testing.T) {
	t.Parallel()
	usd := map[string]Currency{"USD": {"USD", "US Dollar", 2}}
	v := func(amount, comment string) valid {
		p, err := validate(Posting{CustomerID: 1, Currency: "USD", Kind: KindAdjustment, Amount: amount, Comment: comment}, usd, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := requestHash(false, []valid{v("25", "")})
	if !bytes.Equal(base, requestHash(false, []valid{v("+25.00", "")})) {
		t.Error("the same value written differently hashes differently")
	}
	for name, other := range map[string][]byte{
		"other amount":  requestHash(false, []valid{v("-25", "")}),
		"other comment": requestHash(false, []valid{v("25", "x")}),
		"batch of one":  requestHash(true, []valid{v("25", "")}),
		"two postings":  requestHash(false, []valid{v("25", ""), v("25", "")}),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("%s: same hash", name)
		}
	}
}
