package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// update rewrites every golden file with the answer received (go test
// ./gateway/e2e -update); golden.check is the only place that reads it.
var update = flag.Bool("update", false, "rewrite golden files with the answers received")

// node is a decoded JSON value that remembers the order of object keys,
// which MANEX clients see and the seeds fix.
type node struct {
	kind    string // object, array, string, number, boolean, null
	keys    []string
	members map[string]*node
	items   []*node
	scalar  any // string, json.Number or bool
}

func parseNode(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			n := &node{kind: "object", members: map[string]*node{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				child, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := n.members[k]; dup {
					return nil, fmt.Errorf("key %q twice", k)
				}
				n.keys = append(n.keys, k)
				n.members[k] = child
			}
			_, err := dec.Token()
			return n, err
		}
		n := &node{kind: "array"}
		for dec.More() {
			child, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, child)
		}
		_, err := dec.Token()
		return n, err
	case string:
		return &node{kind: "string", scalar: v}, nil
	case json.Number:
		return &node{kind: "number", scalar: v}, nil
	case bool:
		return &node{kind: "boolean", scalar: v}, nil
	case nil:
		return &node{kind: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// compareOptions say what a comparison checks.
type compareOptions struct {
	values bool // scalar values must be equal (numbers by their decimal value)
	order  bool // object keys must come in the same order
	// skip are paths ("/ResponseObject/ACCT_DATE") compared by JSON type
	// only, and whose values, when a pattern is given, must match it. A
	// segment "*" stands for every index of an array ("/*/history_id").
	skip map[string]*regexp.Regexp
	// deviate are paths whose whole subtree is not compared at all.
	deviate map[string]bool
}

// compareNodes returns every difference between want and got at path.
func compareNodes(path string, want, got *node, o compareOptions) []string {
	if o.deviate[path] {
		return nil
	}
	show := path
	if show == "" {
		show = "/"
	}
	if want.kind != got.kind {
		return []string{fmt.Sprintf("%s: %s, want %s", show, got.kind, want.kind)}
	}
	var diffs []string
	switch want.kind {
	case "object":
		for _, k := range want.keys {
			if _, ok := got.members[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: key %q missing", show, k))
			}
		}
		for _, k := range got.keys {
			if _, ok := want.members[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: unexpected key %q", show, k))
			}
		}
		if o.order && len(diffs) == 0 && !slices.Equal(want.keys, got.keys) {
			diffs = append(diffs, fmt.Sprintf("%s: key order %v, want %v", show, got.keys, want.keys))
		}
		for _, k := range want.keys {
			if g, ok := got.members[k]; ok {
				diffs = append(diffs, compareNodes(path+"/"+k, want.members[k], g, o)...)
			}
		}
	case "array":
		if len(want.items) != len(got.items) {
			return []string{fmt.Sprintf("%s: %d items, want %d", show, len(got.items), len(want.items))}
		}
		for i := range want.items {
			diffs = append(diffs, compareNodes(path+"/"+strconv.Itoa(i), want.items[i], got.items[i], o)...)
		}
	default:
		if re, ok := o.skipped(path); ok {
			if re != nil && !re.MatchString(fmt.Sprint(got.scalar)) {
				diffs = append(diffs, fmt.Sprintf("%s: %v does not match %s", show, got.scalar, re))
			}
			return diffs
		}
		if o.values && !sameScalar(want, got) {
			diffs = append(diffs, fmt.Sprintf("%s: %v, want %v", show, got.scalar, want.scalar))
		}
	}
	return diffs
}

// skipped returns the skip pattern of path, given for the path itself or
// with its array indexes as "*".
func (o compareOptions) skipped(path string) (*regexp.Regexp, bool) {
	if re, ok := o.skip[path]; ok {
		return re, true
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			segs[i] = "*"
		}
	}
	re, ok := o.skip[strings.Join(segs, "/")]
	return re, ok
}

func sameScalar(want, got *node) bool {
	if want.kind == "number" {
		// 100.50 and 100.5 are one decimal.
		w, werr := decimal.NewFromString(string(want.scalar.(json.Number)))
		g, gerr := decimal.NewFromString(string(got.scalar.(json.Number)))
		return werr == nil && gerr == nil && w.Equal(g)
	}
	return want.scalar == got.scalar
}

// answer is one HTTP answer under test.
type answer struct {
	status int
	body   []byte
}

// golden is what one answer is checked against.
type golden struct {
	// file is testdata/golden/<file>.json: the answer received when the
	// test was last updated. Keys, nesting, types and values must match,
	// but at the volatile paths, where the type must match and the value
	// the pattern.
	file     string
	volatile map[string]*regexp.Regexp
	// seed, when set, is testdata/seeds/<seed>.json: the example answer of
	// the seed document, transcribed. Keys (in order), nesting and types
	// must match it; seedValues adds the values, but at seedSkip.
	seed       string
	seedValues bool
	seedSkip   map[string]*regexp.Regexp
	// seedDeviate are paths where Abacus answers otherwise than the seed on
	// purpose (the API's README says why); each is explained where it is used.
	seedDeviate map[string]bool
}

// normalize makes an answer independent of where the stack runs: the
// gateway's address, which MANEX echoes in its routing errors, becomes the
// seed's http://localhost.
func normalize(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte(sys.gateway), []byte("http://localhost"))
}

// check compares the answer with its golden file (rewriting it with
// -update) and with its seed example.
func (g golden) check(t *testing.T, a answer) {
	t.Helper()
	body := normalize(a.body)
	got, err := parseNode(body)
	if err != nil {
		t.Fatalf("%s: answer is not JSON: %v\n%s", g.file, err, body)
	}
	path := filepath.Join("testdata", "golden", g.file+".json")
	if *update {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	want, err := parseNode(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range compareNodes("", want, got, compareOptions{values: true, order: true, skip: g.volatile}) {
		t.Errorf("%s (golden): %s", g.file, d)
	}
	if g.seed == "" {
		return
	}
	seedPath := filepath.Join("testdata", "seeds", g.seed+".json")
	raw, err = os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := parseNode(raw)
	if err != nil {
		t.Fatalf("%s: %v", seedPath, err)
	}
	o := compareOptions{values: g.seedValues, order: true, skip: g.seedSkip, deviate: g.seedDeviate}
	for _, d := range compareNodes("", seed, got, o) {
		t.Errorf("%s (seed %s): %s", g.file, g.seed, d)
	}
}

// Patterns of the values that change from run to run.
var (
	reUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	// A MANEX record's date, in Add and Get alike: the Get example's form,
	// ISO 8601 without a zone.
	reDatePlain = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$`)
)

func TestCompareNodes(t *testing.T) {
	t.Parallel()
	parse := func(s string) *node {
		n, err := parseNode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := `{"a":1,"b":{"c":"x","d":[true,null]}}`
	tests := []struct {
		got   string
		o     compareOptions
		diffs int
	}{
		{base, compareOptions{values: true, order: true}, 0},
		{`{"a":1.0,"b":{"c":"x","d":[true,null]}}`, compareOptions{values: true}, 0},
		{`{"b":{"c":"x","d":[true,null]},"a":1}`, compareOptions{values: true}, 0},
		{`{"b":{"c":"x","d":[true,null]},"a":1}`, compareOptions{order: true}, 1},
		{`{"a":2,"b":{"c":"y","d":[true,null]}}`, compareOptions{}, 0},
		{`{"a":2,"b":{"c":"y","d":[true,null]}}`, compareOptions{values: true}, 2},
		{`{"a":"1","b":{"c":"x","d":[true]}}`, compareOptions{}, 2},
		{`{"a":1,"b":{"c":"x","d":[true,null],"e":0}}`, compareOptions{}, 1},
		{`{"a":1,"b":{"c":null,"d":[true,null]}}`, compareOptions{}, 1},
		{`{"a":1,"b":{"c":"zz","d":[true,null]}}`, compareOptions{values: true, skip: map[string]*regexp.Regexp{"/b/c": regexp.MustCompile(`^z+$`)}}, 0},
		{`{"a":1,"b":{"c":"zy","d":[true,null]}}`, compareOptions{values: true, skip: map[string]*regexp.Regexp{"/b/c": regexp.MustCompile(`^z+$`)}}, 1},
		{`{"a":1,"b":null}`, compareOptions{values: true, deviate: map[string]bool{"/b": true}}, 0},
		{`{"a":1,"b":{"c":"x","d":[false,null]}}`, compareOptions{values: true, skip: map[string]*regexp.Regexp{"/b/d/*": nil}}, 0},
		{`{"a":1,"b":{"c":"x","d":[true,1]}}`, compareOptions{values: true, skip: map[string]*regexp.Regexp{"/b/d/*": nil}}, 1},
	}
	for _, tt := range tests {
		if got := compareNodes("", parse(base), parse(tt.got), tt.o); len(got) != tt.diffs {
			t.Errorf("%s %+v: %d differences %v, want %d", tt.got, tt.o, len(got), got, tt.diffs)
		}
	}
}
