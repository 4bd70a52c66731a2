// Package idemkey is the syntax of an idempotency key, one rule for every
// surface that takes a key: the ledger's gRPC requests and metadata, and the
// HTTP Idempotency-Key header.
//
// A key is 1 to MaxLen characters, each a visible ASCII character, U+0021
// (!) to U+007E (~): letters, digits and punctuation. Spaces, control
// characters and anything outside ASCII are refused rather than
// transformed, so that a key is honoured exactly as sent or not at all:
// HTTP and gRPC metadata carry ASCII only, and a key some hop silently
// dropped or rewrote would let a retry post twice.
package idemkey

// MaxLen is the longest key, in characters (which are bytes here).
const MaxLen = 200

// Rule says what a key must be, for error messages.
const Rule = "must be 1 to 200 visible ASCII characters (! to ~: letters, digits, punctuation; no spaces)"

// Valid reports whether key follows the rule. The empty key is not valid;
// surfaces where a key is optional treat "" as absent before asking.
func Valid(key string) bool {
	if len(key) == 0 || len(key) > MaxLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < '!' || c > '~' {
			return false
		}
	}
	return true
}
