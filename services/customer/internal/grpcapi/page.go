package grpcapi

import (
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/platform/fielderr"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
)

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pagePos is where a page ends: the last customer id, or the last
// (extended group, record id) of a customer's extended records.
type pagePos struct {
	Group int32 `json:"g,omitempty"`
	ID    int32 `json:"id"`
}

// listPage reads one page of a keyset-paged list. query names the list and
// its filters (pagetoken.Query), so a token only continues the list it came
// from. fetch returns up to limit items after a position; listPage asks for
// one more than the page holds, to know whether another page follows, and
// returns the page with the token of the next one ("" after the last).
func listPage[T any](pageSize int32, token, query string, fetch func(after pagePos, limit int) ([]T, error), end func(T) pagePos) ([]T, string, error) {
	size, err := pageSizeOf(pageSize)
	if err != nil {
		return nil, "", err
	}
	after, err := decodePos(token, query)
	if err != nil {
		return nil, "", err
	}
	items, err := fetch(after, size+1)
	if err != nil || len(items) <= size {
		return items, "", err
	}
	items = items[:size]
	return items, pagetoken.Encode(query, end(items[size-1])), nil
}

func pageSizeOf(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, &customer.FieldError{Field: "page_size", Rule: "must be >= 0"}
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

// decodePos decodes a page token of query; "" is the first page.
func decodePos(token, query string) (pagePos, error) {
	if token == "" {
		return pagePos{}, nil
	}
	p, err := pagetoken.Decode[pagePos](token, query)
	if err == nil && (p.ID < 0 || p.Group < 0) {
		err = fielderr.New(pagetoken.Field, "is malformed")
	}
	return p, err
}
