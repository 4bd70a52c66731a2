package ledger

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		want     string // "" for an error
		decimals int
	}{
		{"25", "25", 0},
		{"25.00", "25", 2},
		{"+25.5", "25.5", 1},
		{"-0.001", "-0.001", 3},
		{"0", "0", 0},
		{"007.10", "7.1", 2},
		{"999999999999999999.99999999", "999999999999999999.99999999", 8},
		{"0000000000000000000001", "1", 0}, // leading zeros are not magnitude
		{"1000000000000000000", "", 0},     // 19 integer digits
		{"", "", 0},
		{" 1", "", 0},
		{"1 ", "", 0},
		{"1e3", "", 0},
		{"1E3", "", 0},
		{".5", "", 0},
		{"5.", "", 0},
		{"--5", "", 0},
		{"+-5", "", 0},
		{"1,5", "", 0},
		{"0x10", "", 0},
		{"NaN", "", 0},
		{"Infinity", "", 0},
		{"١٢", "", 0}, // non-ASCII digits
		{"\u22125", "", 0},
		{strings.Repeat("1", 41), "", 0},
		{"1." + strings.Repeat("0", 39), "", 0}, // 41 characters
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, decimals, err := ParseAmount(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("ParseAmount(%q) = %s, want an error", tc.in, d)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tc.in, err)
			}
			if !d.Equal(decimal.RequireFromString(tc.want)) || decimals != tc.decimals {
				t.Errorf("ParseAmount(%q) = %s, %d decimals; want %s, %d", tc.in, d, decimals, tc.want, tc.decimals)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		scale int32
		want  string
	}{
		{"25", 2, "25.00"},
		{"-3.5", 2, "-3.50"},
		{"100", 0, "100"},
		{"1.234", 3, "1.234"},
		{"1.2345", 2, "1.2345"}, // never rounds
		{"0", 4, "0.0000"},
	} {
		if got := FormatAmount(decimal.RequireFromString(tc.in), tc.scale); got != tc.want {
			t.Errorf("FormatAmount(%s, %d) = %q, want %q", tc.in, tc.scale, got, tc.want)
		}
	}
}

// FuzzParseAmount: whatever the input, ParseAmount either refuses it or
// returns the exact value the text denotes, which reads back the same.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"25.00", "-1", "+0.5", "1e5", "", "00.00", "99999999999999999999", "1.2.3", "\u22121"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, decimals, err := ParseAmount(s)
		if err != nil {
			return
		}
		if !amountPattern.MatchString(s) || len(s) > maxAmountLen {
			t.Fatalf("accepted %q", s)
		}
		_, frac, _ := strings.Cut(s, ".")
		if decimals != len(frac) {
			t.Fatalf("%q: %d decimals, want %d", s, decimals, len(frac))
		}
		back, _, err := ParseAmount(d.StringFixed(int32(decimals)))
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q parsed as %s, which reads back as %s (%v)", s, d, back, err)
		}
	})
}
