package auth

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		header     string
		user, pass string
		err        error
	}{
		{name: "plain", header: "Basic " + b64("alice:s3cret"), user: "alice", pass: "s3cret"},
		{name: "scheme case-insensitive", header: "bAsIc " + b64("alice:s3cret"), user: "alice", pass: "s3cret"},
		{name: "extra spaces", header: "  Basic   " + b64("alice:s3cret") + " ", user: "alice", pass: "s3cret"},
		{name: "password with colons", header: "Basic " + b64("alice:a:b:c"), user: "alice", pass: "a:b:c"},
		{name: "exigo login", header: "Basic " + b64("jane@doe.com@acme:pw"), user: "jane@doe.com@acme", pass: "pw"},
		{name: "no padding", header: "Basic " + strings.TrimRight(b64("ab:c"), "="), user: "ab", pass: "c"},
		{name: "utf-8", header: "Basic " + b64("zoë:pässwörd"), user: "zoë", pass: "pässwörd"},
		{name: "missing", header: "", err: ErrMissing},
		{name: "bearer", header: "Bearer abc", err: ErrScheme},
		{name: "scheme only", header: "Basic", err: ErrScheme},
		{name: "scheme and spaces", header: "Basic    ", err: ErrScheme},
		{name: "basicish scheme", header: "Basicx " + b64("a:b"), err: ErrScheme},
		{name: "bad base64", header: "Basic !!!not-base64!!!", err: ErrEncoding},
		{name: "url-safe alphabet", header: "Basic " + base64.URLEncoding.EncodeToString([]byte("a:b\xfb\xff")), err: ErrEncoding},
		{name: "no colon", header: "Basic " + b64("alice"), err: ErrFormat},
		{name: "empty user", header: "Basic " + b64(":pw"), err: ErrEmptyFields},
		{name: "empty password", header: "Basic " + b64("alice:"), err: ErrEmptyFields},
		{name: "not utf-8", header: "Basic " + b64("al\xffce:pw"), err: ErrCharset},
		{name: "control character", header: "Basic " + b64("alice:p\x00w"), err: ErrCharset},
		{name: "newline", header: "Basic " + b64("alice\n:pw"), err: ErrCharset},
		{name: "too long", header: "Basic " + strings.Repeat("A", maxHeaderLen), err: ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, pass, err := ParseBasic(tt.header)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseBasic(%q) error = %v, want %v", tt.header, err, tt.err)
			}
			if user != tt.user || pass != tt.pass {
				t.Errorf("ParseBasic(%q) = %q, %q; want %q, %q", tt.header, user, pass, tt.user, tt.pass)
			}
		})
	}
}

func TestBasicFromRequestRefusesTwoHeaders(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Authorization", "Basic "+b64("a:b"))
	r.Header.Add("Authorization", "Basic "+b64("c:d"))
	if _, _, err := BasicFromRequest(r); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("error = %v, want ErrAmbiguous", err)
	}
}

func TestSplitExigoLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, login, company string
		ok                   bool
	}{
		{"jdoe@acme", "jdoe", "acme", true},
		{"jane@doe.com@acme", "jane@doe.com", "acme", true},
		{"jdoe", "", "", false},
		{"@acme", "", "", false},
		{"jdoe@", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			login, company, ok := SplitExigoLogin(tt.user)
			if login != tt.login || company != tt.company || ok != tt.ok {
				t.Errorf("SplitExigoLogin(%q) = %q, %q, %v; want %q, %q, %v", tt.user, login, company, ok, tt.login, tt.company, tt.ok)
			}
		})
	}
}

// FuzzParseBasic checks that any header either fails cleanly or yields a
// credential that obeys the parser's promises and round-trips.
func FuzzParseBasic(f *testing.F) {
	for _, seed := range []string{
		"Basic " + b64("alice:s3cret"), "basic " + b64("a:b:c"), "Basic", "Basic =", "Bearer x",
		"Basic " + b64("\xff:\xfe"), "Basic " + b64(":"), "Basic YQ", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		user, pass, err := ParseBasic(header)
		if err != nil {
			if user != "" || pass != "" {
				t.Fatalf("error %v with credentials %q, %q", err, user, pass)
			}
			return
		}
		if user == "" || pass == "" || strings.Contains(user, ":") {
			t.Fatalf("bad split: %q, %q", user, pass)
		}
		if !utf8.ValidString(user) || !utf8.ValidString(pass) || strings.ContainsFunc(user+pass, isControl) {
			t.Fatalf("invalid characters in %q, %q", user, pass)
		}
		u2, p2, err := ParseBasic("Basic " + b64(user+":"+pass))
		if err != nil || u2 != user || p2 != pass {
			t.Fatalf("round trip of %q, %q = %q, %q, %v", user, pass, u2, p2, err)
		}
	})
}
