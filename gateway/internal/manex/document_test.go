package manex

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keys returns the keys of every JSON object in data, in document order,
// one slice per object: what a client relying on order sees.
func keys(t *testing.T, data []byte) [][]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]string
	var stack []int // index into out of each open object, -1 for arrays
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				out = append(out, nil)
				stack = append(stack, len(out)-1)
				expectKey = true
				continue
			case '[':
				stack = append(stack, -1)
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				top := stack[len(stack)-1]
				out[top] = append(out[top], v)
				expectKey = false
				continue
			}
		}
		expectKey = len(stack) > 0 && stack[len(stack)-1] >= 0
	}
	return out
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      Object
		want     string
		wantKeys [][]string
	}{
		{
			name:     "flat envelope",
			doc:      Object{{"Code", 403}, {"Message", "Invalid API Key."}, {"SessionId", nil}, {"IsValidUser", false}, {"ResponseObject", nil}},
			want:     `{"$id":"1","Code":403,"Message":"Invalid API Key.","SessionId":null,"IsValidUser":false,"ResponseObject":null}`,
			wantKeys: [][]string{{"$id", "Code", "Message", "SessionId", "IsValidUser", "ResponseObject"}},
		},
		{
			name: "nested objects in document order",
			doc: Object{
				{"Code", 200},
				{"ResponseObject", Object{{"CUSTNO", "0000000010"}, {"Inner", Object{{"X", 1}}}, {"CREDLIMIT", json.Number("12.50")}}},
				{"After", Object{{"Y", true}}},
			},
			want: `{"$id":"1","Code":200,"ResponseObject":{"$id":"2","CUSTNO":"0000000010","Inner":{"$id":"3","X":1},"CREDLIMIT":12.50},"After":{"$id":"4","Y":true}}`,
			wantKeys: [][]string{
				{"$id", "Code", "ResponseObject", "After"},
				{"$id", "CUSTNO", "Inner", "CREDLIMIT"},
				{"$id", "X"},
				{"$id", "Y"},
			},
		},
		{
			name: "objects inside arrays are numbered, arrays are not",
			doc: Object{
				{"List", []Object{{{"A", "a"}}, {{"B", "b"}}}},
				{"Mixed", []any{1, "two", Object{{"C", nil}}, nil}},
				{"Empty", []any{}},
				{"Null", []any(nil)},
			},
			want: `{"$id":"1","List":[{"$id":"2","A":"a"},{"$id":"3","B":"b"}],"Mixed":[1,"two",{"$id":"4","C":null},null],"Empty":[],"Null":null}`,
		},
		{
			name: "escaping",
			doc:  Object{{`Quote"Key`, "line\nbreak <b>"}},
			want: `{"$id":"1","Quote\"Key":"line\nbreak \u003cb\u003e"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tt.doc)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, got)
			}
			if err := json.Unmarshal([]byte(tt.want), &wantV); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("Encode mismatch (-want +got):\n%s", diff)
			}
			if tt.wantKeys != nil {
				if diff := cmp.Diff(tt.wantKeys, keys(t, got)); diff != "" {
					t.Errorf("key order mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  Object
	}{
		{"reserved key", Object{{"$id", "7"}}},
		{"map loses order", Object{{"M", map[string]int{"a": 1}}}},
		{"struct loses numbering", Object{{"S", struct{ A int }{1}}}},
		{"float", Object{{"F", 1.5}}},
		{"nested bad value", Object{{"O", Object{{"L", []any{map[string]int{}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Encode(tt.doc); err == nil {
				t.Fatal("Encode succeeded, want an error")
			}
		})
	}
}

func TestRedactPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/API/Customer/Get/K123456789":  "/API/Customer/Get/*****",
		"/api/customer/get/K123456789/": "/api/customer/get/*****",
		"/API/CustomerAdd/123456789":    "/API/CustomerAdd/*****",
		"/API/Customer/Get/":            "/API/Customer/*****",
		"/API/Customer":                 "/API/Customer",
		"/API/Customer/Get/a/b":         "/API/Customer/Get/*****",
	}
	for in, want := range tests {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}
