// Package auth holds what every dialect shares when it authenticates a
// request: parsing HTTP Basic credentials, the per-client limiter on failed
// attempts, and the Guard that ties them to TenantAdminService.Authenticate.
// The dialects own only the shapes of their answers.
package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Reasons a Basic Authorization header is refused. They are for logs and
// tests; clients get their dialect's single authentication-failure answer.
var (
	ErrMissing     = errors.New("no Authorization header")
	ErrAmbiguous   = errors.New("several Authorization headers")
	ErrScheme      = errors.New("authorization scheme is not Basic")
	ErrEncoding    = errors.New("credentials are not valid base64")
	ErrFormat      = errors.New("credentials have no ':' between user and password")
	ErrCharset     = errors.New("credentials are not valid UTF-8 or contain control characters")
	ErrTooLong     = errors.New("authorization header is too long")
	ErrEmptyFields = errors.New("user or password is empty")
)

// maxHeaderLen bounds the work done on a header before any credential is
// checked; every credential Abacus issues is far shorter.
const maxHeaderLen = 4096

// ParseBasic parses the value of an Authorization header carrying the Basic
// scheme (RFC 7617) and returns the user and password. The scheme name is
// case-insensitive, the user ends at the first ':' (RFC 7617 forbids ':' in
// it) and the password may contain ':'. Both must be non-empty UTF-8 without
// control characters, because they travel on as proto strings and a service
// cannot match an empty secret anyway.
func ParseBasic(header string) (user, password string, err error) {
	if header == "" {
		return "", "", ErrMissing
	}
	if len(header) > maxHeaderLen {
		return "", "", ErrTooLong
	}
	scheme, encoded, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", ErrScheme
	}
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return "", "", ErrEncoding
	}
	decoded, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// Some clients drop the padding; accept that, nothing else.
		if decoded, err = base64.RawStdEncoding.DecodeString(encoded); err != nil {
			return "", "", ErrEncoding
		}
	}
	text := string(decoded)
	if !utf8.ValidString(text) || strings.ContainsFunc(text, isControl) {
		return "", "", ErrCharset
	}
	user, password, ok = strings.Cut(text, ":")
	if !ok {
		return "", "", ErrFormat
	}
	if user == "" || password == "" {
		return "", "", ErrEmptyFields
	}
	return user, password, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// BasicFromRequest parses the request's single Authorization header.
func BasicFromRequest(r *http.Request) (user, password string, err error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", "", ErrMissing
	case 1:
		return ParseBasic(values[0])
	default:
		// Two headers could be read differently by a proxy and by us.
		return "", "", ErrAmbiguous
	}
}

// SplitExigoLogin splits Exigo's "login@company" user at its last '@', since
// a login may itself be an e-mail address while a company name has no '@'.
func SplitExigoLogin(user string) (login, company string, ok bool) {
	i := strings.LastIndexByte(user, '@')
	if i <= 0 || i == len(user)-1 {
		return "", "", false
	}
	return user[:i], user[i+1:], true
}
