// Package pathset says which request paths an API owns. Each API declares its
// own Set; the server asks the APIs in turn and never spells their URLs.
package pathset

import "strings"

// Set is the request paths an API owns: whole paths and path prefixes.
type Set struct {
	// Exact are whole paths.
	Exact []string
	// Prefixes own every path that starts with one of them.
	Prefixes []string
	// AnyCase compares lower-cased paths, as the IIS servers of Exigo and
	// MANEX do; otherwise case counts.
	AnyCase bool
}

// Owns reports whether path is one of p's.
func (p Set) Owns(path string) bool {
	fold := func(s string) string { return s }
	if p.AnyCase {
		fold = strings.ToLower
	}
	path = fold(path)
	for _, e := range p.Exact {
		if path == fold(e) {
			return true
		}
	}
	for _, pre := range p.Prefixes {
		if strings.HasPrefix(path, fold(pre)) {
			return true
		}
	}
	return false
}
