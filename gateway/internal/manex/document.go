package manex

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Object is a JSON object whose members keep their order: MANEX clients see
// its (ASP.NET) key order, so a Go map will not do.
type Object []Member

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// Encode writes doc as JSON in which every object, doc included, starts with
// a "$id" member numbered "1", "2", … in document order (the order its
// opening brace is written), as Json.NET's reference preservation does.
// Arrays are not numbered, only the objects in them.
//
// Values may be nil, string, bool, int, int32, int64, json.Number, Object, or
// []any / []Object of those. Anything else is an error: a map or a struct
// would lose either the key order or the numbering. A "$id" member in doc is
// an error too, since Encode owns that key.
func Encode(doc Object) ([]byte, error) {
	e := encoder{}
	if err := e.object(doc); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

type encoder struct {
	buf  bytes.Buffer
	next int
}

func (e *encoder) object(o Object) error {
	e.next++
	fmt.Fprintf(&e.buf, `{"$id":"%d"`, e.next)
	for _, m := range o {
		if m.Key == "$id" {
			return fmt.Errorf("encode: member %q is reserved", m.Key)
		}
		e.buf.WriteByte(',')
		if err := e.scalar(m.Key); err != nil {
			return err
		}
		e.buf.WriteByte(':')
		if err := e.value(m.Value); err != nil {
			return fmt.Errorf("%s: %w", m.Key, err)
		}
	}
	e.buf.WriteByte('}')
	return nil
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case Object:
		return e.object(v)
	case []Object:
		items := make([]any, len(v))
		for i, o := range v {
			items[i] = o
		}
		return e.array(items)
	case []any:
		return e.array(v)
	case nil, string, bool, int, int32, int64, json.Number:
		return e.scalar(v)
	default:
		return fmt.Errorf("encode: unsupported value of type %T", v)
	}
}

func (e *encoder) array(items []any) error {
	if items == nil {
		e.buf.WriteString("null")
		return nil
	}
	e.buf.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.value(item); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	e.buf.WriteByte(']')
	return nil
}

func (e *encoder) scalar(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	e.buf.Write(b)
	return nil
}
