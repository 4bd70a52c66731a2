// Package query reads query-string parameters the way the dialects' original
// servers do: names match case-insensitively (customerID, CustomerID and
// CUSTOMERID are one parameter).
package query

import (
	"fmt"
	"net/url"
	"strings"
)

// RepeatedError reports a parameter sent more than once. With names matched
// case-insensitively, "a=1&A=2" is such a repetition, and picking one of the
// values would depend on map order.
type RepeatedError struct{ Name string }

func (e *RepeatedError) Error() string {
	return fmt.Sprintf("parameter %s is given more than once", e.Name)
}

// Get returns the value of the parameter name and whether it was sent.
func Get(values url.Values, name string) (value string, present bool, err error) {
	var found []string
	for key, vs := range values {
		if strings.EqualFold(key, name) {
			found = append(found, vs...)
		}
	}
	switch len(found) {
	case 0:
		return "", false, nil
	case 1:
		return found[0], true, nil
	default:
		return "", true, &RepeatedError{Name: name}
	}
}

// Lower returns values with every name lower-cased, for dialects that accept
// many parameters; a name sent twice (in any case) is an error.
func Lower(values url.Values) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for key, vs := range values {
		if len(vs) == 0 {
			continue
		}
		lk := strings.ToLower(key)
		if _, dup := out[lk]; dup || len(vs) > 1 {
			return nil, &RepeatedError{Name: key}
		}
		out[lk] = vs[0]
	}
	return out, nil
}
