// Package jsonbody reads the JSON object a dialect request carries as its
// body, the way the dialects' .NET servers (Json.NET) bind one: member names
// match case-insensitively, so two spellings of one name are the same member
// sent twice, and strings may be single-quoted, as the MANEX seed's own
// examples are. Members keep their order, so the first bad one reported is
// always the same one.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrNotObject is a body that is not exactly one JSON object.
var ErrNotObject = errors.New("the request body is not a JSON object")

// DuplicateError is a member sent more than once (in any letter case).
type DuplicateError struct{ Name string }

func (e *DuplicateError) Error() string { return fmt.Sprintf("%s is given more than once", e.Name) }

// UTF8Error is a member whose name or value is not UTF-8. JSON text must be
// UTF-8 (RFC 8259), and encoding/json would silently turn the bytes into
// U+FFFD: a misspelt name would then be ignored as unknown, and a value
// stored other than as sent.
type UTF8Error struct {
	Name   string // as sent, with U+FFFD for each invalid byte sequence
	InName bool   // the name itself is not UTF-8, else its value
}

func (e *UTF8Error) Error() string {
	if e.InName {
		return fmt.Sprintf("the member name %q is not valid UTF-8", e.Name)
	}
	return fmt.Sprintf("the value of %s is not valid UTF-8", e.Name)
}

// Member is one member of the object: its name as sent and its raw value.
type Member struct {
	Name  string
	Value json.RawMessage
}

// Lower is the name lower-cased, the form dialects match on.
func (m Member) Lower() string { return strings.ToLower(m.Name) }

// IsNull reports whether the value is JSON null, which .NET binds like a
// member that was not sent.
func (m Member) IsNull() bool { return bytes.Equal(m.Value, []byte("null")) }

// String decodes a string value; ok is false for any other JSON type.
func (m Member) String() (s string, ok bool) {
	if len(m.Value) == 0 || m.Value[0] != '"' {
		return "", false
	}
	return s, json.Unmarshal(m.Value, &s) == nil
}

// Scalar returns the value as text: a string's contents, or the JSON text of
// a number or boolean (.NET binds either into a string or numeric property).
// ok is false for objects and arrays; null is ("", true) and is told apart
// with IsNull.
func (m Member) Scalar() (text string, ok bool) {
	switch {
	case len(m.Value) == 0:
		return "", false
	case m.Value[0] == '"':
		return m.String()
	case m.Value[0] == '{' || m.Value[0] == '[':
		return "", false
	case m.IsNull():
		return "", true
	}
	return string(m.Value), true
}

// Read decodes r, which must hold one JSON object and nothing else but
// white space. An empty body is an empty object. A member whose name or
// value is not UTF-8 is a *UTF8Error, so that no dialect can mistake it for
// another member or store it repaired.
func Read(r io.Reader) ([]Member, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	text := doubleQuoted(raw)
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, ErrNotObject
	}
	var members []Member
	seen := map[string]bool{}
	for dec.More() {
		// The name's raw text lies between the offsets around its token
		// (with the separator before it, which is ASCII).
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, ErrNotObject
		}
		name, ok := tok.(string)
		if !ok {
			return nil, ErrNotObject
		}
		nameValid := utf8.Valid(text[start:dec.InputOffset()])
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, ErrNotObject
		}
		switch {
		case !nameValid:
			return nil, &UTF8Error{Name: name, InName: true}
		case !utf8.Valid(v):
			return nil, &UTF8Error{Name: name}
		}
		lower := strings.ToLower(name)
		if seen[lower] {
			return nil, &DuplicateError{Name: name}
		}
		seen[lower] = true
		members = append(members, Member{Name: name, Value: bytes.TrimSpace(v)})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, ErrNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrNotObject
	}
	return members, nil
}

// doubleQuoted rewrites Json.NET's single-quoted strings ('a "b"' and
// 'it\'s') as standard JSON strings, leaving everything else as it is. An
// unterminated string is left for the decoder to refuse.
func doubleQuoted(raw []byte) []byte {
	if bytes.IndexByte(raw, '\'') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(raw) {
				return raw
			}
			out = append(out, raw[i:j+1]...)
			i = j
		case '\'':
			out = append(out, '"')
			j := i + 1
			for ; j < len(raw) && raw[j] != '\''; j++ {
				switch {
				case raw[j] == '\\' && j+1 < len(raw) && raw[j+1] == '\'':
					out = append(out, '\'')
					j++
				case raw[j] == '\\' && j+1 < len(raw):
					out = append(out, raw[j], raw[j+1])
					j++
				case raw[j] == '"':
					out = append(out, '\\', '"')
				default:
					out = append(out, raw[j])
				}
			}
			if j >= len(raw) {
				return raw
			}
			out = append(out, '"')
			i = j
		default:
			out = append(out, raw[i])
		}
	}
	return out
}
