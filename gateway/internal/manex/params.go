package manex

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
)

// params are a request's parameters by lower-cased name: MANEX matches
// names case-insensitively (Custname, CUSTNAME and custname are one).
type params map[string]string

// paramError is a parameter that cannot be read. Its text names the
// parameter (in the seed's spelling when it is one of MANEX's) and the rule,
// ready to follow "Customer add failed.".
type paramError struct{ name, rule string }

func (e *paramError) Error() string { return e.name + " " + e.rule }

// errNoModel is a body that does not bind at all: the action then sees a
// null model, which MANEX reports as the seed's null reference message.
var errNoModel = errors.New("body is not a JSON object")

// readParams merges the query string and, for POST, the JSON body; a body
// member wins over a query parameter of the same name. Body values may be
// strings, numbers or booleans (a number or boolean is kept as its JSON
// text, as .NET binds it into a string property); null means not sent.
// Unknown names are kept and ignored by the actions, as Web API ignores
// what its model does not have.
func readParams(r *http.Request) (params, error) {
	p, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return p, nil
	}
	members, err := jsonbody.Read(r.Body)
	var dup *jsonbody.DuplicateError
	var bad *jsonbody.UTF8Error
	switch {
	case errors.As(err, &dup):
		return nil, &paramError{labelOf(dup.Name), "is given more than once."}
	case errors.As(err, &bad) && bad.InName:
		return nil, &paramError{"The parameter name " + quote(bad.Name), "is not valid UTF-8."}
	case errors.As(err, &bad):
		return nil, &paramError{labelOf(bad.Name), "must be valid UTF-8."}
	case err != nil:
		return nil, errNoModel
	}
	for _, m := range members {
		name := m.Lower()
		text, ok := m.Scalar()
		switch {
		case !ok:
			return nil, &paramError{labelOf(m.Name), "must be a single value, not an object or an array."}
		case m.IsNull():
			delete(p, name)
		default:
			p[name] = text
		}
	}
	return p, nil
}

// parseQuery reads a query string strictly: each name once (in any case),
// every escape well formed. url.ParseQuery would report only the first bad
// escape, without saying whose.
func parseQuery(raw string) (params, error) {
	p := params{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, &paramError{"The parameter name " + quote(rawName), "is not URL-encoded correctly."}
		}
		// A name that is not UTF-8 could only be ignored as unknown, and
		// the value meant for a MANEX parameter with it.
		if !utf8.ValidString(name) {
			return nil, &paramError{"The parameter name " + quote(rawName), "is not valid UTF-8."}
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, &paramError{labelOf(name), "is not URL-encoded correctly."}
		}
		lower := strings.ToLower(name)
		if _, dup := p[lower]; dup {
			return nil, &paramError{labelOf(name), "is given more than once."}
		}
		p[lower] = value
	}
	return p, nil
}

// quote shows a client's text in a message: quoted, and cut short when long.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return "'" + strings.ToValidUTF8(s, "\uFFFD") + "'"
}
