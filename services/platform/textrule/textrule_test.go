package textrule

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const (
	ruleUTF8      = "must be valid UTF-8"
	ruleBlank     = "must not be empty or only spaces"
	ruleKeyChars  = "must contain only ASCII letters and digits"
	ruleKeyLength = "must be at most 50 characters"
)

// ruleFound is the rule broken by text with the character r.
func ruleFound(r rune) string {
	return fmt.Sprintf("must not contain control or invisible formatting characters (found U+%04X)", r)
}

// ruleCase is text and the rule it breaks ("" for none).
type ruleCase struct{ name, in, want string }

func checkRule(t *testing.T, rule func(string) string, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rule(tt.in); got != tt.want {
				t.Errorf("rule(%+q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	checkRule(t, Name, []ruleCase{
		{"plain", "Acme Corp", ""},
		{"accents", "Société Générale – Zürich", ""},
		{"CJK", "株式会社東京", ""},
		{"Arabic, right to left by itself", "شركة الأمل", ""},
		{"Persian with ZWNJ", "می\u200cخواهم", ""},
		{"emoji with ZWJ and a variation selector", "Family 👨\u200d👩\u200d👧 ❤\ufe0f", ""},
		{"inner spaces, also no-break", "A\u00a0B  C", ""},
		{"padded with spaces", "  Acme  ", ""},
		{"apostrophe and dot", "O'Brien & Sons, Inc.", ""},
		{"empty", "", ruleBlank},
		{"only spaces", "   ", ruleBlank},
		{"only no-break and ideographic spaces", "\u00a0\u3000", ruleBlank},
		{"only a Hangul filler", "\u3164", ruleBlank},
		{"only a joiner", "\u200d", ruleBlank},
		{"dot dot is a name", "..", ""},
		{"CR LF", "Acme\r\nCorp", ruleFound('\r')},
		{"LF", "Acme\n", ruleFound('\n')},
		{"TAB", "Acme\tCorp", ruleFound('\t')},
		{"only a TAB", "\t", ruleFound('\t')},
		{"NUL", "Ac\x00me", ruleFound(0)},
		{"DEL", "Acme\x7f", ruleFound(0x7f)},
		{"C1 control NEL", "Acme\u0085", ruleFound(0x85)},
		{"right-to-left override", "Acme\u202eproC", "must not contain control or invisible formatting characters (found U+202E)"},
		{"left-to-right embedding", "\u202aAcme", ruleFound(0x202a)},
		{"right-to-left isolate", "Acme\u2067x\u2069", ruleFound(0x2067)},
		{"right-to-left mark", "Acme\u200f", ruleFound(0x200f)},
		{"Arabic letter mark", "\u061cAcme", ruleFound(0x61c)},
		{"byte order mark", "\ufeffAcme", ruleFound(0xfeff)},
		{"zero-width space", "Ac\u200bme", ruleFound(0x200b)},
		{"soft hyphen", "Ac\u00adme", ruleFound(0xad)},
		{"line separator", "Acme\u2028Corp", ruleFound(0x2028)},
		{"paragraph separator", "Acme\u2029", ruleFound(0x2029)},
		{"tag character", "Acme\U000E0041", ruleFound(0xe0041)},
		{"invalid UTF-8", "Ac\xffme", ruleUTF8},
		{"truncated sequence", "Soci\xc3", ruleUTF8},
		{"surrogate half", "\xed\xa0\x80", ruleUTF8},
	})
}

func TestLine(t *testing.T) {
	t.Parallel()
	checkRule(t, Line, []ruleCase{
		{"empty", "", ""},
		{"only spaces", "  ", ""},
		{"phone", "+1 (555) 010-0100", ""},
		{"initials with accents", "ÉÖ", ""},
		{"TAB", "a\tb", ruleFound('\t')},
		{"CR", "a\rb", ruleFound('\r')},
		{"byte order mark", "\ufeff", ruleFound(0xfeff)},
		{"right-to-left override", "\u202e", ruleFound(0x202e)},
		{"invalid UTF-8", "\xff", ruleUTF8},
	})
}

func TestKey(t *testing.T) {
	t.Parallel()
	checkRule(t, Key, []ruleCase{
		{"the seeds' key", "1", ""},
		{"letters and digits", "ACME1acme", ""},
		{"at the limit", strings.Repeat("k", 50), ""},
		{"empty", "", "is required"},
		{"over the limit", strings.Repeat("k", 51), ruleKeyLength},
		{"dot dot", "..", ruleKeyChars},
		{"dash", "acme-1", ruleKeyChars},
		{"underscore", "acme_1", ruleKeyChars},
		{"space", "al pha", ruleKeyChars},
		{"only spaces", "  ", ruleKeyChars},
		{"slash", "a/b", ruleKeyChars},
		{"CR LF", "a\r\nb", ruleKeyChars},
		{"TAB", "a\tb", ruleKeyChars},
		{"right-to-left override", "a\u202eb", ruleKeyChars},
		{"byte order mark", "\ufeffab", ruleKeyChars},
		{"non-ASCII letter", "café", ruleKeyChars},
		{"non-ASCII digit", "١٢", ruleKeyChars},
		{"fullwidth letter", "ＡＢ", ruleKeyChars},
		{"invalid UTF-8", "a\xffb", ruleKeyChars},
	})
}

// FuzzRules checks what each rule promises of the text it accepts, and
// that the rules nest: a key is a name, and a name is a line.
func FuzzRules(f *testing.F) {
	for _, s := range []string{"", " ", "..", "Acme", "株式会社", "a\r\nb", "\t", "\u202e", "\ufeff", "\xff", "\u3164", "می\u200cخواهم", "k1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, name, key := Line(s), Name(s), Key(s)
		if line == "" {
			if !utf8.ValidString(s) {
				t.Fatalf("Line accepts invalid UTF-8 %+q", s)
			}
			for _, r := range s {
				if r != zeroWidthJoiner && r != zeroWidthNonJoiner &&
					(unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)) {
					t.Fatalf("Line accepts %+q with U+%04X", s, r)
				}
			}
		}
		if name == "" {
			if line != "" {
				t.Fatalf("Name accepts %+q, which Line refuses: %s", s, line)
			}
			if strings.TrimSpace(s) == "" {
				t.Fatalf("Name accepts blank %+q", s)
			}
		}
		if key == "" {
			if name != "" {
				t.Fatalf("Key accepts %+q, which Name refuses: %s", s, name)
			}
			if len(s) == 0 || len(s) > MaxKeyLen {
				t.Fatalf("Key accepts %+q of %d bytes", s, len(s))
			}
			for _, c := range []byte(s) {
				if !unicode.IsLetter(rune(c)) && !unicode.IsDigit(rune(c)) || c >= utf8.RuneSelf {
					t.Fatalf("Key accepts %+q with byte %#x", s, c)
				}
			}
		}
	})
}
