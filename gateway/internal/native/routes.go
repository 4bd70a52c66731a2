package native

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// routes are the native API's path templates with their methods, read from
// the OpenAPI document generated from the same google.api.http annotations
// as the handlers, so that a 405's Allow header needs no list kept by hand.
type routes []route

type route struct {
	template string
	segments []segment
	verb     string // "batchPost" of /v1/entries:batchPost, or ""
	methods  []string
}

// segment is a literal, or a variable ({customer_id}), which matches any
// one path segment as grpc-gateway's {name} does. The native API's
// variables are all single-segment; parseRoutes refuses any other kind.
type segment struct {
	literal  string
	variable bool
}

// parseRoutes reads the paths object of an OpenAPI v2 document.
func parseRoutes(doc []byte) (routes, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	var rs routes
	for template, ops := range d.Paths {
		rt, err := parseTemplate(template)
		if err != nil {
			return nil, err
		}
		for method := range ops {
			switch m := strings.ToUpper(method); m {
			case "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH":
				rt.methods = append(rt.methods, m)
			}
			// Anything else under a path is not an operation ("parameters").
		}
		rs = append(rs, rt)
	}
	return rs, nil
}

func parseTemplate(template string) (route, error) {
	rt := route{template: template}
	rest, ok := strings.CutPrefix(template, "/")
	if !ok {
		return route{}, fmt.Errorf("OpenAPI path %q does not start with /", template)
	}
	parts := strings.Split(rest, "/")
	last := parts[len(parts)-1]
	// The verb follows the last colon outside a variable.
	if i := strings.LastIndexByte(last, ':'); i > strings.LastIndexByte(last, '}') {
		parts[len(parts)-1], rt.verb = last[:i], last[i+1:]
	}
	for _, p := range parts {
		name, isVar := strings.CutPrefix(p, "{")
		if !isVar {
			if p == "" || strings.ContainsAny(p, "{}*") {
				return route{}, fmt.Errorf("OpenAPI path %q: segment %q is not a literal", template, p)
			}
			rt.segments = append(rt.segments, segment{literal: p})
			continue
		}
		name, closed := strings.CutSuffix(name, "}")
		if !closed || name == "" || strings.ContainsAny(name, "{}=*/") {
			return route{}, fmt.Errorf("OpenAPI path %q: segment %q is not a single-segment variable", template, p)
		}
		rt.segments = append(rt.segments, segment{variable: true})
	}
	return rt, nil
}

// allowed returns the methods of every template that path matches, sorted.
// path is the request's decoded path, split the way grpc-gateway's mux
// splits it (in its default, legacy unescaping mode).
func (rs routes) allowed(path string) []string {
	comps := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var out []string
	for _, rt := range rs {
		if rt.matches(comps) {
			out = append(out, rt.methods...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (rt route) matches(comps []string) bool {
	if len(comps) != len(rt.segments) {
		return false
	}
	if rt.verb != "" {
		// As the mux does: the last component must end in ":verb" with
		// something before it; without a verb the colon is part of it.
		last, ok := strings.CutSuffix(comps[len(comps)-1], ":"+rt.verb)
		if !ok || last == "" {
			return false
		}
		comps = append(comps[:len(comps)-1:len(comps)-1], last)
	}
	for i, s := range rt.segments {
		if !s.variable && comps[i] != s.literal {
			return false
		}
	}
	return true
}
