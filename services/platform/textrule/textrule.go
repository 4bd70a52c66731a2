// Package textrule is the one rule for the names and keys Abacus stores,
// whichever surface they arrive through: the customer service's domain
// applies it, and the gateway's dialects check it first so that they can
// name the parameter in their own terms. It imports nothing but the standard
// library, so any module may use it.
//
// A rule function returns the rule that its text breaks, worded to follow
// the field's name ("must be valid UTF-8"), or "" when the text obeys it.
// Lengths other than a key's belong to each field and are checked there.
package textrule

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the longest customer key, the length of the proto field.
const MaxKeyLen = 50

// The joiners are format characters that spelling needs: ZWNJ in Persian
// and Indic scripts, ZWJ there and in emoji sequences.
const (
	zeroWidthNonJoiner = '\u200C'
	zeroWidthJoiner    = '\u200D'
)

// Name is the rule for a name, such as a customer's name (MANEX Custname) or
// a tenant's: single-line text (see Line) with at least one visible
// character, so neither "" nor "   " is a name.
func Name(s string) string {
	if rule := Line(s); rule != "" {
		return rule
	}
	for _, r := range s {
		if !invisible(r) {
			return ""
		}
	}
	return "must not be empty or only spaces"
}

// Line is the rule for single-line text (labels, codes, initials, phone
// numbers): valid UTF-8 without control characters (Unicode Cc: NUL, TAB,
// CR, LF, DEL, the C1 controls), line or paragraph separators (U+2028,
// U+2029) or invisible format characters (Unicode Cf: the bidi controls
// U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069, the byte order
// mark U+FEFF, zero-width spaces, soft hyphens, tags), except the two
// joiners that spelling needs. Such characters make text that looks the
// same as other text, or that displays reordered, or that breaks the lines
// and columns of whatever shows it. Empty text obeys the rule.
func Line(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if forbidden(r) {
			return fmt.Sprintf("must not contain control or invisible formatting characters (found U+%04X)", r)
		}
	}
	return ""
}

// Key is the rule for a customer key (Exigo's CustomerKey, "a unique alpha
// numeric identifier"): 1 to MaxKeyLen ASCII letters and digits.
func Key(s string) string {
	if s == "" {
		return "is required"
	}
	if utf8.RuneCountInString(s) > MaxKeyLen {
		return fmt.Sprintf("must be at most %d characters", MaxKeyLen)
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return "must contain only ASCII letters and digits"
		}
	}
	return ""
}

// forbidden reports whether r may not appear in single-line text.
func forbidden(r rune) bool {
	switch {
	case r == zeroWidthNonJoiner || r == zeroWidthJoiner:
		return false
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r),
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return true
	}
	return false
}

// invisible reports whether r shows nothing on its own: white space, the
// joiners, variation selectors and the other default-ignorable characters
// (such as the Hangul fillers, U+3164 among them).
func invisible(r rune) bool {
	return unicode.IsSpace(r) || r == zeroWidthNonJoiner || r == zeroWidthJoiner ||
		unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}
