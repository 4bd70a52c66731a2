package manex

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // RFC 3339, or "" when refused
	}{
		{"01/15/2024", "2024-01-15T00:00:00Z"},
		{"1/5/2024", "2024-01-05T00:00:00Z"},
		{"12/31/9999", "9999-12-31T00:00:00Z"},
		{"02/29/2024", "2024-02-29T00:00:00Z"},
		{"01/01/0001", "0001-01-01T00:00:00Z"},
		{"02/29/2023", ""}, // not a leap year
		{"02/30/2024", ""},
		{"04/31/2024", ""},
		{"13/01/2024", ""},
		{"00/10/2024", ""},
		{"01/00/2024", ""},
		{"01/01/0000", ""},
		{"2024-01-01", ""}, // ISO where MM/DD/YYYY is required
		{"01-15-2024", ""},
		{"01/15/24", ""},
		{"001/15/2024", ""},
		{"01/15/2024 00:00:00", ""},
		{"+1/15/2024", ""},
		{"01/15/20245", ""},
		{"", ""},
		{"//", ""},
		{"١/١/٢٠٢٤", ""}, // digits, but not ASCII ones
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseDate(tt.in)
			if ok != (tt.want != "") || ok && got.Format(time.RFC3339) != tt.want {
				t.Errorf("parseDate(%q) = %v, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // RFC 3339 with fraction, or "" when refused
	}{
		{"2024-01-1500:00:00", "2024-01-15T00:00:00Z"}, // as the seed's example writes it
		{"2024-01-15 00:00:00", "2024-01-15T00:00:00Z"},
		{"2024-01-15T13:28:00", "2024-01-15T13:28:00Z"},
		{"2014-11-19T13:27:49.25", "2014-11-19T13:27:49.25Z"},
		{"2014-11-19T13:27:49.1234567", "2014-11-19T13:27:49.123456Z"}, // kept to microseconds
		{"2024-01-15", ""},
		{"YYYY-MM-DD00:00:00", ""},
		{"2024-02-30 00:00:00", ""},
		{"2024-01-15 24:00:00", ""},
		{"2024-01-15 23:60:00", ""},
		{"2024-01-15 23:59:60", ""},
		{"2024-01-15  00:00:00", ""},
		{"2024-01-15 00:00:00Z", ""},
		{"2024-01-15 00:00:00.", ""},
		{"2024-01-15 00:00:00.12345678", ""},
		{"2024-1-15 00:00:00", ""},
		{"0000-01-15 00:00:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseDateTime(tt.in)
			if ok != (tt.want != "") || ok && got.Format(time.RFC3339Nano) != tt.want {
				t.Errorf("parseDateTime(%q) = %v, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestIsDatePlaceholder(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"YYYY-MM-DD00:00:00": true, "yyyy-mm-dd 00:00:00": true, "YYYY-MM-DDT00:00:00": true,
		"2024-01-15 00:00:00": false, "MM/DD/YYYY": false, "": false,
	} {
		if got := isDatePlaceholder(s); got != want {
			t.Errorf("isDatePlaceholder(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzParseDate: whatever the input, an accepted date is a UTC midnight
// that writes back to the text it came from (up to leading zeros), and an
// accepted date and time is UTC, in range and round-trips through the
// record's layout.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"01/15/2024", "1/5/2024", "02/30/2024", "2024-01-01", "12/31/9999", "01/01/0000", "",
		"2024-01-1500:00:00", "2024-01-15 00:00:00", "2014-11-19T13:27:49.25", "YYYY-MM-DD00:00:00",
		"2024-01-15 00:00:00.1234567", "99/99/9999", "\xff/\xfe/2024",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseDate(s); ok {
			if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
				t.Fatalf("parseDate(%q) = %v, not a UTC midnight", s, d)
			}
			parts := strings.Split(s, "/")
			back := strings.Split(d.Format("1/2/2006"), "/")
			for i := range 2 {
				if strings.TrimLeft(parts[i], "0") != back[i] {
					t.Fatalf("parseDate(%q) = %v, which reads back as %s", s, d, d.Format("01/02/2006"))
				}
			}
			if parts[2] != d.Format("2006") {
				t.Fatalf("parseDate(%q) = %v: year differs", s, d)
			}
		}
		if d, ok := parseDateTime(s); ok {
			if d.Location() != time.UTC || d.Year() < 1 || d.Year() > 9999 || d.Nanosecond()%1000 != 0 {
				t.Fatalf("parseDateTime(%q) = %v: zone, range or precision", s, d)
			}
			again, ok := parseDateTime(d.Format(layoutPlain))
			if !ok || !again.Equal(d) {
				t.Fatalf("parseDateTime(%q) = %v does not round-trip: %v, %v", s, d, again, ok)
			}
		}
	})
}
