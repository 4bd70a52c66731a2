package jsonbody

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    []string // name=value pairs, in order
		wantErr string   // "not object", or the duplicate's name
	}{
		{body: ``, want: nil},
		{body: `{}`, want: nil},
		{body: ` {"b":1, "A":"x", "c":null, "d":{"e":[1]}} `, want: []string{`b=1`, `A="x"`, `c=null`, `d={"e":[1]}`}},
		{body: `{"a":1,"A":2}`, wantErr: "A"},
		{body: `{"a":1,"a":2}`, wantErr: "a"},
		{body: `{`, wantErr: "not object"},
		{body: `{"a":}`, wantErr: "not object"},
		{body: `{"a":1}}`, wantErr: "not object"},
		{body: `{"a":1} x`, wantErr: "not object"},
		{body: `[{"a":1}]`, wantErr: "not object"},
		{body: `null`, wantErr: "not object"},
		{body: `"a"`, wantErr: "not object"},
		{body: `{'a':'x "y" it\'s', "b":"'", 'c':null}`, want: []string{`a="x \"y\" it's"`, `b="'"`, `c=null`}},
		{body: `{'a':'x}`, wantErr: "not object"},
		{body: `{'a':'\`, wantErr: "not object"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			members, err := Read(strings.NewReader(tt.body))
			var dup *DuplicateError
			switch {
			case tt.wantErr == "not object":
				if !errors.Is(err, ErrNotObject) {
					t.Fatalf("err = %v, want ErrNotObject", err)
				}
			case tt.wantErr != "":
				if !errors.As(err, &dup) || dup.Name != tt.wantErr {
					t.Fatalf("err = %v, want duplicate %s", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				var got []string
				for _, m := range members {
					got = append(got, m.Name+"="+string(m.Value))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("members (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// Bytes that are not UTF-8, in a member's name or in its value, refuse the
// body, naming the member; the first such member in the body is reported.
func TestReadRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want UTF8Error
	}{
		{"in a name", "{\"customerID\":1,\"fi\xffeld1\":\"x\"}", UTF8Error{Name: "fi\uFFFDeld1", InName: true}},
		{"a name that is one bad byte", "{\"\xc3\":1}", UTF8Error{Name: "\uFFFD", InName: true}},
		{"in a single-quoted name", "{'fi\xffeld1':'x'}", UTF8Error{Name: "fi\uFFFDeld1", InName: true}},
		{"in a string value", "{\"field3\":\"\xff\xfe\"}", UTF8Error{Name: "field3"}},
		{"in a value inside an object", "{\"a\":{\"b\":\"\xc3\"}}", UTF8Error{Name: "a"}},
		{"in a single-quoted value", "{'Custname':'\xc3\x28'}", UTF8Error{Name: "Custname"}},
		{"the first of two", "{\"a\":\"\xff\",\"b\xff\":1}", UTF8Error{Name: "a"}},
		{"a surrogate half", "{\"a\":\"\xed\xa0\x80\"}", UTF8Error{Name: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			members, err := Read(strings.NewReader(tt.body))
			var got *UTF8Error
			if !errors.As(err, &got) {
				t.Fatalf("Read = %v, %v; want a UTF8Error", members, err)
			}
			if *got != tt.want {
				t.Errorf("error %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestMemberValues(t *testing.T) {
	t.Parallel()
	members, err := Read(strings.NewReader(`{"s":"x\u00e9","n":12.50,"b":true,"z":null,"o":{},"a":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Scalar   string
		ScalarOK bool
		String   string
		StringOK bool
		Null     bool
	}
	got := map[string]view{}
	for _, m := range members {
		v := view{Null: m.IsNull()}
		v.Scalar, v.ScalarOK = m.Scalar()
		v.String, v.StringOK = m.String()
		got[m.Lower()] = v
	}
	want := map[string]view{
		"s": {Scalar: "xé", ScalarOK: true, String: "xé", StringOK: true},
		"n": {Scalar: "12.50", ScalarOK: true},
		"b": {Scalar: "true", ScalarOK: true},
		"z": {ScalarOK: true, Null: true},
		"o": {},
		"a": {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzRead: Read never panics; what it accepts is a JSON object whose
// members it returns in order, each name and value UTF-8, each value valid
// JSON, no name twice.
func FuzzRead(f *testing.F) {
	for _, s := range []string{``, `{}`, `{'a':'b\\'c"'}`, `{"a":1,"A":2}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"a":"\xff"}`, `{"\xff":1}`, `[1]`, `{"a":1} {}`, `{"":""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		members, err := Read(strings.NewReader(body))
		if err != nil {
			return
		}
		if !json.Valid(doubleQuoted([]byte(body))) && strings.TrimSpace(body) != "" {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		seen := map[string]bool{}
		for _, m := range members {
			if seen[m.Lower()] {
				t.Fatalf("%q twice", m.Name)
			}
			seen[m.Lower()] = true
			if !utf8.ValidString(m.Name) || !utf8.Valid(m.Value) {
				t.Fatalf("member %q = %q is not UTF-8", m.Name, m.Value)
			}
			if !json.Valid(m.Value) {
				t.Fatalf("member %q has invalid value %q", m.Name, m.Value)
			}
		}
	})
}
