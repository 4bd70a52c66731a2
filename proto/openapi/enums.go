package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The services' files, so that their enums are registered.
	_ "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	_ "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	_ "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// The native /v1 JSON API writes an enum value by its short name: the proto
// name without the enum's prefix, so a customer's status is "ACTIVE", as a
// posting's kind (a string field) is "PAYMENT", and not
// "CUSTOMER_STATUS_ACTIVE". The proto names stay what gRPC and buf know; the
// gateway's marshaler writes the short names and reads both. This file is
// the rule, for the gateway and for the document that describes it.

// ShortName is the native API's name of an enum value of an Abacus enum:
// the value's proto name without its enum's prefix (CUSTOMER_STATUS_ for
// CustomerStatus), or the proto name where there is no such prefix or
// nothing sensible would be left.
func ShortName(v protoreflect.EnumValueDescriptor) string {
	name := string(v.Name())
	enum := v.Parent().(protoreflect.EnumDescriptor)
	if !IsAbacusEnum(enum) {
		return name
	}
	short, ok := strings.CutPrefix(name, enumPrefix(enum.Name()))
	if !ok || short == "" || !unicode.IsLetter(rune(short[0])) {
		return name
	}
	return short
}

// IsAbacusEnum reports whether the native API writes e's values by their
// short names: the enums of the Abacus protos, not those of Google's.
func IsAbacusEnum(e protoreflect.EnumDescriptor) bool {
	return strings.HasPrefix(string(e.FullName()), "abacus.")
}

// enumPrefix is the prefix buf's ENUM_VALUE_PREFIX rule gives an enum's
// values: the enum's name in upper snake case and "_".
func enumPrefix(name protoreflect.Name) string {
	var b strings.Builder
	s := string(name)
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 && !unicode.IsUpper(rune(s[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	b.WriteByte('_')
	return b.String()
}

// shortNames maps every Abacus enum value's proto name to its short name.
// Proto names of values are unique in a package, and prefixed by their
// enum's name, so one map serves every enum.
func shortNames() map[string]string {
	m := map[string]string{}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "abacus.") {
			return true
		}
		var walk func(enums protoreflect.EnumDescriptors, msgs protoreflect.MessageDescriptors)
		walk = func(enums protoreflect.EnumDescriptors, msgs protoreflect.MessageDescriptors) {
			for i := range enums.Len() {
				vals := enums.Get(i).Values()
				for j := range vals.Len() {
					v := vals.Get(j)
					if short := ShortName(v); short != string(v.Name()) {
						m[string(v.Name())] = short
					}
				}
			}
			for i := range msgs.Len() {
				walk(msgs.Get(i).Enums(), msgs.Get(i).Messages())
			}
		}
		walk(f.Enums(), f.Messages())
		return true
	})
	return m
}

// wireDocument rewrites the generated document so that it describes the
// wire: every string value that is exactly an Abacus enum value's proto
// name (in an "enum" list or a "default") becomes its short name.
// Everything else, order included, stays as generated.
func wireDocument(generated []byte) ([]byte, error) {
	names := shortNames()
	dec := json.NewDecoder(bytes.NewReader(generated))
	dec.UseNumber()
	var out bytes.Buffer
	tok, err := dec.Token()
	if err == nil {
		err = copyValue(dec, &out, tok, names)
	}
	if err != nil {
		return nil, fmt.Errorf("openapi: rewrite the generated document: %w", err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("openapi: rewrite the generated document: %w", err)
	}
	pretty.WriteByte('\n')
	return pretty.Bytes(), nil
}

// copyValue writes the value that starts with tok, renaming string values
// (never keys) found in names.
func copyValue(dec *json.Decoder, out *bytes.Buffer, tok json.Token, names map[string]string) error {
	switch t := tok.(type) {
	case json.Delim:
		open, closing := byte(t), byte('}')
		if t == '[' {
			closing = ']'
		}
		out.WriteByte(open)
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if open == '{' {
				writeString(out, tok.(string))
				out.WriteByte(':')
				if tok, err = dec.Token(); err != nil {
					return err
				}
			}
			if err := copyValue(dec, out, tok, names); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		out.WriteByte(closing)
	case string:
		if short, ok := names[t]; ok {
			t = short
		}
		writeString(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		fmt.Fprint(out, t)
	case nil:
		out.WriteString("null")
	}
	return nil
}

// writeString writes s as a JSON string, without escaping <, > and & (the
// document's descriptions are not HTML).
func writeString(w *bytes.Buffer, s string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	w.Truncate(w.Len() - 1)
}
