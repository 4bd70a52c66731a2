package manex

import (
	"strconv"
	"strings"
	"time"
)

// MANEX dates carry no zone. Abacus reads and writes them as UTC wall-clock
// times, so a date sent is the date read back, wherever client and server
// are.

// parseDate reads MANEX's MM/DD/YYYY. Month and day may have one digit, as
// .NET accepts; the year has four. The date must exist (02/30/2024 does
// not).
func parseDate(s string) (time.Time, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	month, ok1 := digits(parts[0], 1, 2)
	day, ok2 := digits(parts[1], 1, 2)
	year, ok3 := digits(parts[2], 4, 4)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return civil(year, month, day, 0, 0, 0, 0)
}

// parseDateTime reads the ISO form of the seed's Edit example,
// 'YYYY-MM-DD00:00:00': a date, then the time of day, either run together
// (as the example writes it), or after a space or a 'T'; the seconds may
// have up to seven decimals (.NET's precision; Abacus keeps six). A date
// alone is not this form: where MANEX wants MM/DD/YYYY, 2024-01-15 is
// refused rather than guessed at.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-0215:04:05") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4], 4, 4)
	month, ok2 := digits(s[5:7], 2, 2)
	day, ok3 := digits(s[8:10], 2, 2)
	rest := s[10:]
	if len(rest) > 0 && (rest[0] == ' ' || rest[0] == 'T') {
		rest = rest[1:]
	}
	if !ok1 || !ok2 || !ok3 || len(rest) < len("15:04:05") || rest[2] != ':' || rest[5] != ':' {
		return time.Time{}, false
	}
	hour, ok4 := digits(rest[0:2], 2, 2)
	minute, ok5 := digits(rest[3:5], 2, 2)
	second, ok6 := digits(rest[6:8], 2, 2)
	if !ok4 || !ok5 || !ok6 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	nanos := 0
	if frac := rest[8:]; frac != "" {
		f, ok := digits(frac[min(1, len(frac)):], 1, 7)
		if frac[0] != '.' || !ok {
			return time.Time{}, false
		}
		for range 9 - (len(frac) - 1) {
			f *= 10
		}
		// Microseconds, as PostgreSQL stores them: what is written is what
		// is read back.
		nanos = f / 1000 * 1000
	}
	return civil(year, month, day, hour, minute, second, nanos)
}

// isDatePlaceholder reports whether s is the seed Edit example's literal
// placeholder, 'YYYY-MM-DD00:00:00' (in any case, with or without a space
// or 'T' before the time): a client that copied the example sends it, and
// it stands for no date at all.
func isDatePlaceholder(s string) bool {
	switch strings.ToUpper(s) {
	case "YYYY-MM-DD00:00:00", "YYYY-MM-DD 00:00:00", "YYYY-MM-DDT00:00:00", "YYYY-MM-DD":
		return true
	}
	return false
}

// digits reads a decimal number of between min and max ASCII digits.
func digits(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// civil builds a UTC time when every part is in range, the day existing in
// its month; years run from 1 to 9999, as a protobuf Timestamp does.
func civil(year, month, day, hour, minute, second, nanos int) (time.Time, bool) {
	if year < 1 || month < 1 || month > 12 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	if t.Day() != day || t.Month() != time.Month(month) {
		return time.Time{}, false
	}
	return t, true
}

// layoutPlain is how a record writes its dates, in Add's answer and Get's
// alike: the Get example's form, ISO 8601 without a zone (a DateTime read
// from the database), fractions of a second only when there are any and
// without trailing zeros, as .NET writes them. The seed's Add example shows
// its server's local offset (-05:00); Abacus keeps UTC wall-clock dates,
// for which an offset would only say "+00:00", and one record shape with
// one date form means a client can compare what Add answered with what Get
// answers, and send either back to Edit.
const layoutPlain = "2006-01-02T15:04:05.999999"
