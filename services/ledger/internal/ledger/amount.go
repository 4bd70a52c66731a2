package ledger

import (
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// Bounds of an amount as written: at most 40 characters (the proto's
// bound) and 18 significant integer digits, so no sum of postings comes near
// any limit of NUMERIC.
const (
	maxAmountLen    = 40
	maxIntegerDigit = 18
)

var amountPattern = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// ParseAmount parses a decimal string strictly: an optional sign, digits,
// and an optional point followed by digits; no exponent, no spaces, never
// through a float. It returns the value and the number of decimals written
// (so "1.50" has 2).
func ParseAmount(s string) (decimal.Decimal, int, error) {
	if len(s) > maxAmountLen || !amountPattern.MatchString(s) {
		return decimal.Decimal{}, 0, errBadAmount
	}
	digits := strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(digits, ".")
	if len(strings.TrimLeft(intPart, "0")) > maxIntegerDigit {
		return decimal.Decimal{}, 0, errTooLarge
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, 0, errBadAmount
	}
	return d, len(frac), nil
}

type amountError string

func (e amountError) Error() string { return string(e) }

const (
	errBadAmount amountError = "must be a decimal number such as 25.00 or -3.5 (digits, an optional sign and decimal point; no exponent)"
	errTooLarge  amountError = "must have at most 18 digits before the decimal point"
)

// FormatAmount renders d with the currency's scale (25 in USD is "25.00"),
// or with more decimals should d have them, so it never rounds.
func FormatAmount(d decimal.Decimal, scale int32) string {
	if -d.Exponent() > scale {
		return d.String()
	}
	return d.StringFixed(scale)
}
