package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/services/customer/internal/record"
)

// extendedSelect is the select list: the ids, field1..field30, version and
// update_time.
var extendedSelect = func() string {
	cols := []string{"customer_id", "extended_group_id", "customer_extended_id"}
	for i := 1; i <= record.ExtendedFieldCount; i++ {
		cols = append(cols, "field"+strconv.Itoa(i))
	}
	return strings.Join(append(cols, "version", "update_time"), ", ")
}()

func scanExtended(row pgx.Row) (record.Extended, error) {
	var e record.Extended
	dest := []any{&e.CustomerID, &e.GroupID, &e.ExtendedID}
	for i := range e.Fields {
		dest = append(dest, &e.Fields[i])
	}
	dest = append(dest, &e.Version, &e.UpdateTime)
	err := row.Scan(dest...)
	return e, err
}

// GetExtended returns one extended record of a customer of tenantID.
func (s *Store) GetExtended(ctx context.Context, tenantID string, customerID, groupID, extendedID int32) (record.Extended, error) {
	e, err := scanExtended(s.pool.QueryRow(ctx, `SELECT `+extendedSelect+` FROM customer.customer_extended
		WHERE tenant_id = $1 AND customer_id = $2 AND extended_group_id = $3 AND customer_extended_id = $4`,
		tenantID, customerID, groupID, extendedID))
	return e, translate(err, "get extended record")
}

// ListExtended returns up to limit extended records of a customer of
// tenantID after the position after, ordered by group then record id.
// groupID 0 lists every group.
func (s *Store) ListExtended(ctx context.Context, tenantID string, customerID, groupID int32, after record.ExtendedPage, limit int) ([]record.Extended, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+extendedSelect+` FROM customer.customer_extended
		WHERE tenant_id = $1 AND customer_id = $2
		  AND ($3::integer = 0 OR extended_group_id = $3::integer)
		  AND (extended_group_id, customer_extended_id) > ($4::integer, $5::integer)
		ORDER BY extended_group_id, customer_extended_id
		LIMIT $6`, tenantID, customerID, groupID, after.GroupID, after.ExtendedID, limit)
	if err != nil {
		return nil, translate(err, "list extended records")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (record.Extended, error) { return scanExtended(r) })
	return out, translate(err, "list extended records")
}

// PatchExtended sets the fields numbered in fields (1 to 30) of the record
// e identifies to their values in e, creating the record, with every other
// field empty, when it does not exist. The customer must exist in tenantID,
// else ErrNotFound.
func (s *Store) PatchExtended(ctx context.Context, tenantID string, e record.Extended, fields []int) (record.Extended, error) {
	cols := []string{"tenant_id", "customer_id", "extended_group_id", "customer_extended_id"}
	vals := []string{"$1::uuid", "$2::integer", "$3::integer", "$4::integer"}
	args := []any{tenantID, e.CustomerID, e.GroupID, e.ExtendedID}
	set := make([]string, 0, len(fields)+2)
	seen := map[int]bool{}
	for _, n := range fields {
		if n < 1 || n > record.ExtendedFieldCount {
			return record.Extended{}, fmt.Errorf("patch extended record: no field%d", n)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		col := "field" + strconv.Itoa(n)
		args = append(args, e.Fields[n-1])
		cols = append(cols, col)
		vals = append(vals, "$"+strconv.Itoa(len(args))+"::text")
		set = append(set, col+" = EXCLUDED."+col)
	}
	set = append(set, "version = x.version + 1", "update_time = now()")
	// INSERT ... SELECT ... WHERE EXISTS returns no row when the customer is
	// not the tenant's, which reads as ErrNotFound.
	out, err := scanExtended(s.pool.QueryRow(ctx, `
		INSERT INTO customer.customer_extended AS x (`+strings.Join(cols, ", ")+`)
		SELECT `+strings.Join(vals, ", ")+`
		WHERE EXISTS (SELECT 1 FROM customer.customers WHERE tenant_id = $1 AND customer_id = $2)
		ON CONFLICT (tenant_id, customer_id, extended_group_id, customer_extended_id)
		DO UPDATE SET `+strings.Join(set, ", ")+`
		RETURNING `+extendedSelect, args...))
	return out, translate(err, "patch extended record")
}
