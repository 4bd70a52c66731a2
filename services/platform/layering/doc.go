// Package layering holds no code: its test checks the import graph of the
// whole workspace, the rules that keep the layers apart.
package layering
