package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// The rows ledger.post_group takes, one type per composite type of
// migrations/00008_post_group_steps.sql, field for field in the order of
// the type's attributes: pgx sends a struct as a composite by field
// position. Every field has a binary encoding (tenant ids are sent as
// bytes, not text), so that pgx sends the arrays in binary; a single field
// without one would send a whole array as text, to be parsed by the server.
type (
	postingRow struct {
		Req            int32
		TenantID       pgtype.UUID
		CustomerID     int32
		Currency       string
		WebsiteID      int32
		Kind           string
		Action         int16
		Delta          decimal.Decimal
		Scale          int16
		Comment        string
		NotifyCustomer bool
		IdempotencyKey string
	}
	balanceKeyRow struct {
		TenantID   pgtype.UUID
		CustomerID int32
		Currency   string
		WebsiteID  int32
	}
	claimRow struct {
		Req          int32
		TenantID     pgtype.UUID
		Key          string
		RequestHash  []byte
		FirstPosting int32
		LastPosting  int32
	}
)

// rowTypes are the array types ledger.post_group takes (PostgreSQL names an
// array type after its element with a leading "_"). A connection must know
// their OIDs and those of their composite elements to send them; it learns
// them once, with one query, on its first posting.
var rowTypes = []string{"ledger._group_posting", "ledger._balance_key", "ledger._key_claim"}

func loadRowTypes(ctx context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	if _, ok := m.TypeForName(rowTypes[len(rowTypes)-1]); ok {
		return nil
	}
	types, err := conn.LoadTypes(ctx, rowTypes)
	if err != nil {
		return fmt.Errorf("load the posting row types: %w", err)
	}
	m.RegisterTypes(types)
	return nil
}

// groupRowSet is a group as ledger.post_group takes it: its postings in
// group order with requests numbered from 1, its distinct balance keys in
// primary-key order, its claims in (tenant, key) order, and its tenants.
type groupRowSet struct {
	postings []postingRow
	balances []balanceKeyRow
	claims   []claimRow
	tenants  []pgtype.UUID
}

func groupRows(postings []GroupPosting, claims []GroupClaim) (groupRowSet, error) {
	g := groupRowSet{postings: make([]postingRow, 0, len(postings)),
		balances: make([]balanceKeyRow, 0, len(postings)), claims: make([]claimRow, 0, len(claims))}
	tenantIDs := map[string]pgtype.UUID{}
	// A request's postings are postings[first[r]:first[r]+count[r]].
	first, count := map[int]int{}, map[int]int{}
	for i, p := range postings {
		tenant, ok := tenantIDs[p.TenantID]
		if !ok {
			u, err := uuid.Parse(p.TenantID)
			if err != nil {
				return groupRowSet{}, fmt.Errorf("tenant id %q: %w", p.TenantID, err)
			}
			tenant = pgtype.UUID{Bytes: u, Valid: true}
			tenantIDs[p.TenantID] = tenant
			g.tenants = append(g.tenants, tenant)
		}
		g.postings = append(g.postings, postingRow{Req: int32(p.Req + 1), TenantID: tenant, CustomerID: p.CustomerID,
			Currency: p.Currency, WebsiteID: p.WebsiteID, Kind: p.Kind, Action: int16(p.Action), Delta: p.Delta,
			Scale: int16(p.Scale), Comment: p.Comment, NotifyCustomer: p.NotifyCustomer, IdempotencyKey: p.Key})
		g.balances = append(g.balances, balanceKeyRow{TenantID: tenant, CustomerID: p.CustomerID,
			Currency: p.Currency, WebsiteID: p.WebsiteID})
		if _, ok := first[p.Req]; !ok {
			first[p.Req] = i
		}
		count[p.Req]++
	}
	// PostgreSQL orders uuids as their bytes, and the currency codes are
	// three capital letters, ordered alike by every collation.
	slices.SortFunc(g.balances, func(a, b balanceKeyRow) int {
		return cmp.Or(compareUUIDs(a.TenantID, b.TenantID), cmp.Compare(a.CustomerID, b.CustomerID),
			cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.WebsiteID, b.WebsiteID))
	})
	g.balances = slices.Compact(g.balances)
	slices.SortFunc(g.tenants, compareUUIDs)
	for _, c := range claims {
		g.claims = append(g.claims, claimRow{Req: int32(c.Req + 1), TenantID: g.postings[first[c.Req]].TenantID,
			Key: c.Key, RequestHash: c.RequestHash,
			FirstPosting: int32(first[c.Req] + 1), LastPosting: int32(first[c.Req] + count[c.Req])})
	}
	slices.SortFunc(g.claims, func(a, b claimRow) int {
		return cmp.Or(compareUUIDs(a.TenantID, b.TenantID), cmp.Compare(a.Key, b.Key))
	})
	return g, nil
}

func compareUUIDs(a, b pgtype.UUID) int { return bytes.Compare(a.Bytes[:], b.Bytes[:]) }

// The rows give pgx their fields by position (pgtype.CompositeIndexGetter),
// so that it encodes them without reflecting over each row's struct. The
// composite arrays' encoding was 6-17% of the ledger's CPU under posting
// load (pprof, bench ledger at 128 clients); by position it takes 23% less
// time than by reflection (BenchmarkEncodeGroup). Each Index lists the
// fields in declaration order, which is the type's attribute order.

func (postingRow) IsNull() bool { return false }

func (r postingRow) Index(i int) any {
	switch i {
	case 0:
		return r.Req
	case 1:
		return r.TenantID
	case 2:
		return r.CustomerID
	case 3:
		return r.Currency
	case 4:
		return r.WebsiteID
	case 5:
		return r.Kind
	case 6:
		return r.Action
	case 7:
		return r.Delta
	case 8:
		return r.Scale
	case 9:
		return r.Comment
	case 10:
		return r.NotifyCustomer
	default:
		return r.IdempotencyKey
	}
}

func (balanceKeyRow) IsNull() bool { return false }

func (r balanceKeyRow) Index(i int) any {
	switch i {
	case 0:
		return r.TenantID
	case 1:
		return r.CustomerID
	case 2:
		return r.Currency
	default:
		return r.WebsiteID
	}
}

func (claimRow) IsNull() bool { return false }

func (r claimRow) Index(i int) any {
	switch i {
	case 0:
		return r.Req
	case 1:
		return r.TenantID
	case 2:
		return r.Key
	case 3:
		return r.RequestHash
	case 4:
		return r.FirstPosting
	default:
		return r.LastPosting
	}
}
