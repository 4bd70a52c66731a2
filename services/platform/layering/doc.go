// Package layering holds no code: its tests check the structure of the
// whole workspace — the import graph, the rules that keep the layers apart,
// and the relative links of every Markdown document, so that the
// documentation cannot point at files that are gone.
package layering
