package native

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/abacus-ledger/abacus/proto/openapi"
)

// The native API names enum values by their short names (openapi.ShortName:
// "ACTIVE" for CUSTOMER_STATUS_ACTIVE), the convention its string fields
// already follow (a posting's kind is "PAYMENT"). It writes the short name
// and reads the short name, the proto name (what clients sent before) or
// the number, in request bodies, query parameters and answers alike. gRPC
// callers keep the proto names; only this marshaler and the query parser
// translate.

// wireMarshaler is protojson (through runtime.JSONPb) with the enum
// convention. Messages without Abacus enums take JSONPb's path untouched.
type wireMarshaler struct {
	*runtime.JSONPb
}

var _ runtime.Marshaler = wireMarshaler{}

// Marshal writes v as JSONPb does, with short enum names.
func (m wireMarshaler) Marshal(v any) ([]byte, error) {
	b, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	md, ok := enumCarrier(v)
	if !ok {
		return b, nil
	}
	return transcode(b, md, toShort)
}

// NewEncoder writes each value as Marshal does, then JSONPb's delimiter.
func (m wireMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err = w.Write(m.Delimiter())
		return err
	})
}

// Unmarshal reads data into v, accepting short and proto enum names.
func (m wireMarshaler) Unmarshal(data []byte, v any) error {
	md, ok := enumCarrier(v)
	if !ok {
		return m.JSONPb.Unmarshal(data, v)
	}
	named, err := transcode(data, md, toProto)
	var bad *enumValueError
	switch {
	case errors.As(err, &bad):
		return bad
	case err != nil:
		// Not JSON, or not of the message's shape: protojson says what is
		// wrong in its usual words.
		named = data
	}
	return m.UnmarshalOptions.Unmarshal(named, protoTarget(v))
}

// NewDecoder reads one JSON value at a time, as JSONPb's decoder does, and
// unmarshals it as Unmarshal does.
func (m wireMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	plain := runtime.DecoderWrapper{Decoder: d, UnmarshalOptions: m.UnmarshalOptions}
	return runtime.DecoderFunc(func(v any) error {
		if _, ok := enumCarrier(v); !ok {
			return plain.Decode(v)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return err
		}
		return m.Unmarshal(raw, v)
	})
}

var protoMessage = reflect.TypeFor[proto.Message]()

// enumCarrier returns the descriptor of the message v is or points to (the
// runtime decodes a body field into a **Customer) when it holds an Abacus
// enum somewhere.
func enumCarrier(v any) (protoreflect.MessageDescriptor, bool) {
	if msg, ok := v.(proto.Message); ok {
		md := msg.ProtoReflect().Descriptor()
		return md, carriesEnums(md)
	}
	for t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer; t = t.Elem() {
		if t.Implements(protoMessage) {
			// A nil message of a generated type still has its descriptor.
			md := reflect.Zero(t).Interface().(proto.Message).ProtoReflect().Descriptor()
			return md, carriesEnums(md)
		}
	}
	return nil, false
}

// protoTarget returns the message v is or points to, allocating the
// pointers on the way that are nil, as JSONPb's decoder does; v is one
// that enumCarrier accepted.
func protoTarget(v any) proto.Message {
	if msg, ok := v.(proto.Message); ok {
		return msg
	}
	rv := reflect.ValueOf(v)
	for !rv.Type().Implements(protoMessage) {
		rv = rv.Elem()
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
	}
	return rv.Interface().(proto.Message)
}

var carriers sync.Map // protoreflect.FullName → bool

// carriesEnums reports whether a message of md can hold an Abacus enum
// value, in a field of its own or of a message inside it.
func carriesEnums(md protoreflect.MessageDescriptor) bool {
	if v, ok := carriers.Load(md.FullName()); ok {
		return v.(bool)
	}
	found := searchEnums(md, map[protoreflect.FullName]bool{})
	carriers.Store(md.FullName(), found)
	return found
}

func searchEnums(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false // a cycle: its other paths are being searched
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		switch {
		case fd.Kind() == protoreflect.EnumKind && openapi.IsAbacusEnum(fd.Enum()):
			return true
		case fd.Message() != nil && searchEnums(fd.Message(), seen):
			return true
		}
	}
	return false
}

// direction says which names transcode writes.
type direction bool

const (
	toShort direction = true  // answers: proto names become short names
	toProto direction = false // requests: short names become proto names
)

// enumValueError is a request's enum value that names no value.
type enumValueError struct {
	field, value string
	accepted     []string
}

func (e *enumValueError) Error() string {
	return fmt.Sprintf("%s: %q is not a valid value; use one of %s", e.field, e.value, strings.Join(e.accepted, ", "))
}

// protoName returns the proto name of the value of enum that s names: by
// its short name, its proto name or its number.
func protoName(enum protoreflect.EnumDescriptor, s, field string) (string, error) {
	vals := enum.Values()
	if vals.ByName(protoreflect.Name(s)) != nil {
		return s, nil
	}
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		if v := vals.ByNumber(protoreflect.EnumNumber(n)); v != nil {
			return string(v.Name()), nil
		}
	}
	accepted := make([]string, 0, vals.Len())
	for i := range vals.Len() {
		short := openapi.ShortName(vals.Get(i))
		if short == s {
			return string(vals.Get(i).Name()), nil
		}
		accepted = append(accepted, short)
	}
	return "", &enumValueError{field: field, value: s, accepted: accepted}
}

// transcode rewrites the enum values of a JSON message of md in direction
// dir; everything else is copied as it is, in its order.
func transcode(data []byte, md protoreflect.MessageDescriptor, dir direction) ([]byte, error) {
	t := transcoder{dec: json.NewDecoder(bytes.NewReader(data)), dir: dir}
	t.dec.UseNumber()
	t.out.Grow(len(data))
	tok, err := t.dec.Token()
	if err != nil {
		return nil, err
	}
	if err := t.message(tok, md, ""); err != nil {
		return nil, err
	}
	return t.out.Bytes(), nil
}

type transcoder struct {
	dec *json.Decoder
	out bytes.Buffer
	dir direction
}

// message writes the object that starts with tok as a message of md.
func (t *transcoder) message(tok json.Token, md protoreflect.MessageDescriptor, path string) error {
	if tok != json.Delim('{') || !carriesEnums(md) {
		return t.copy(tok)
	}
	fields := md.Fields()
	return t.object(func(key string, tok json.Token) error {
		fd := fields.ByTextName(key)
		if fd == nil {
			fd = fields.ByJSONName(key)
		}
		if fd == nil {
			return t.copy(tok) // protojson refuses it
		}
		return t.field(tok, fd, join(path, key), false)
	})
}

// field writes the value that starts with tok as the value of fd; element
// says it is one element of a list or map field.
func (t *transcoder) field(tok json.Token, fd protoreflect.FieldDescriptor, path string, element bool) error {
	switch {
	case fd.IsList() && !element && tok == json.Delim('['):
		return t.array(func(i int, tok json.Token) error {
			return t.field(tok, fd, path+"["+strconv.Itoa(i)+"]", true)
		})
	case fd.IsMap() && !element && tok == json.Delim('{'):
		return t.object(func(key string, tok json.Token) error {
			return t.field(tok, fd.MapValue(), path+"["+key+"]", true)
		})
	case fd.Message() != nil:
		return t.message(tok, fd.Message(), path)
	case fd.Kind() == protoreflect.EnumKind && openapi.IsAbacusEnum(fd.Enum()):
		s, ok := tok.(string)
		if !ok {
			return t.copy(tok)
		}
		if t.dir == toShort {
			if v := fd.Enum().Values().ByName(protoreflect.Name(s)); v != nil {
				s = openapi.ShortName(v)
			}
		} else {
			var err error
			if s, err = protoName(fd.Enum(), s, path); err != nil {
				return err
			}
		}
		writeString(&t.out, s)
		return nil
	}
	return t.copy(tok)
}

// object writes the object whose '{' was read, each member's value by each.
func (t *transcoder) object(each func(key string, tok json.Token) error) error {
	t.out.WriteByte('{')
	for i := 0; t.dec.More(); i++ {
		if i > 0 {
			t.out.WriteByte(',')
		}
		k, err := t.dec.Token()
		if err != nil {
			return err
		}
		key, _ := k.(string)
		writeString(&t.out, key)
		t.out.WriteByte(':')
		tok, err := t.dec.Token()
		if err != nil {
			return err
		}
		if err := each(key, tok); err != nil {
			return err
		}
	}
	if _, err := t.dec.Token(); err != nil {
		return err
	}
	t.out.WriteByte('}')
	return nil
}

// array writes the array whose '[' was read, each element by each.
func (t *transcoder) array(each func(i int, tok json.Token) error) error {
	t.out.WriteByte('[')
	for i := 0; t.dec.More(); i++ {
		if i > 0 {
			t.out.WriteByte(',')
		}
		tok, err := t.dec.Token()
		if err != nil {
			return err
		}
		if err := each(i, tok); err != nil {
			return err
		}
	}
	if _, err := t.dec.Token(); err != nil {
		return err
	}
	t.out.WriteByte(']')
	return nil
}

// copy writes the value that starts with tok unchanged.
func (t *transcoder) copy(tok json.Token) error {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return t.array(func(_ int, tok json.Token) error { return t.copy(tok) })
		}
		return t.object(func(_ string, tok json.Token) error { return t.copy(tok) })
	case string:
		writeString(&t.out, v)
	case json.Number:
		t.out.WriteString(v.String())
	case bool:
		t.out.WriteString(strconv.FormatBool(v))
	case nil:
		t.out.WriteString("null")
	}
	return nil
}

// writeString writes s as a JSON string, escaping only what JSON requires,
// as protojson does.
func writeString(w *bytes.Buffer, s string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	w.Truncate(w.Len() - 1)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// queryParser reads enum query parameters (a filter such as
// ?status=ACTIVE) by short name, proto name or number, and refuses any
// other value naming the parameter and the names it takes; the rest is
// grpc-gateway's default parsing.
type queryParser struct {
	runtime.DefaultQueryParser
}

// Parse renames the enum values of values to proto names and populates msg.
func (p *queryParser) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	var renamed url.Values
	for key, vs := range values {
		fd := fieldAt(msg.ProtoReflect().Descriptor(), key)
		if fd == nil || fd.Kind() != protoreflect.EnumKind || !openapi.IsAbacusEnum(fd.Enum()) {
			continue
		}
		names := make([]string, len(vs))
		for i, v := range vs {
			name, err := protoName(fd.Enum(), v, key)
			if err != nil {
				return err
			}
			names[i] = name
		}
		if renamed == nil {
			renamed = maps.Clone(values)
		}
		renamed[key] = names
	}
	if renamed != nil {
		values = renamed
	}
	return p.DefaultQueryParser.Parse(msg, values, filter)
}

// fieldAt finds the field a query key names ("status", "consistency.x"), by
// proto or JSON names, as the default parser does; nil when none.
func fieldAt(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	var fd protoreflect.FieldDescriptor
	for i, part := range strings.Split(key, ".") {
		if i > 0 {
			if fd.Message() == nil || fd.IsList() || fd.IsMap() {
				return nil
			}
			md = fd.Message()
		}
		if fd = md.Fields().ByTextName(part); fd == nil {
			if fd = md.Fields().ByJSONName(part); fd == nil {
				return nil
			}
		}
	}
	return fd
}

// installQueryParser sets queryParser as grpc-gateway's query parser. The
// runtime keeps one parser for the whole process (its option writes a
// package variable whatever mux it is given), so it is set once, however
// many handlers are built; the native API is the process's only mux.
var installQueryParser = sync.OnceFunc(func() {
	runtime.SetQueryParameterParser(&queryParser{})(nil)
})
