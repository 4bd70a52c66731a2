// Package pagetoken makes the opaque page tokens of keyset pagination: the
// position after which the next page starts, bound to the query (tenant and
// filters) it came from, so a token sent with another query or by another
// tenant is refused instead of silently applied.
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/abacus-ledger/abacus/services/platform/fielderr"
)

// Field is the request field page tokens arrive in.
const Field = "page_token"

// Query fingerprints a query by its parts: the tenant and the filters, not
// the page size (which may change from page to page).
func Query(parts ...any) string {
	raw, _ := json.Marshal(parts)
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

type envelope[P any] struct {
	Query string `json:"q"`
	Pos   P      `json:"p"`
}

// Encode returns the token of position pos in query.
func Encode[P any](query string, pos P) string {
	raw, _ := json.Marshal(envelope[P]{Query: query, Pos: pos})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Decode returns the position token names. A malformed token, or one of
// another query, is a *fielderr.Error on page_token.
func Decode[P any](token, query string) (P, error) {
	var e envelope[P]
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || json.Unmarshal(raw, &e) != nil {
		return e.Pos, fielderr.New(Field, "is malformed")
	}
	if e.Query != query {
		var zero P
		return zero, fielderr.New(Field, "belongs to another query or tenant")
	}
	return e.Pos, nil
}
