package customer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
)

// ExtendedFieldCount is how many free text fields an extended record has.
const ExtendedFieldCount = record.ExtendedFieldCount

func checkExtendedIDs(customerID, groupID, extendedID int32) error {
	switch {
	case customerID <= 0:
		return invalid("customer_id", "must be > 0")
	case groupID <= 0:
		return invalid("extended_group_id", "must be > 0")
	case extendedID <= 0:
		return invalid("customer_extended_id", "must be > 0")
	}
	return nil
}

// GetExtended returns one extended record of a customer of tenantID.
func (s *Service) GetExtended(ctx context.Context, tenantID string, customerID, groupID, extendedID int32) (record.Extended, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Extended{}, err
	}
	if err := checkExtendedIDs(customerID, groupID, extendedID); err != nil {
		return record.Extended{}, err
	}
	e, err := s.store.GetExtended(ctx, tenantID, customerID, groupID, extendedID)
	if errors.Is(err, store.ErrNotFound) {
		return record.Extended{}, fmt.Errorf("%w: extended record %d/%d of customer %d", ErrNotFound, groupID, extendedID, customerID)
	}
	return e, err
}

// ListExtended returns up to limit extended records of a customer of
// tenantID after the position after; groupID 0 lists every group. A
// customer the tenant does not have is ErrNotFound, not an empty list.
func (s *Service) ListExtended(ctx context.Context, tenantID string, customerID, groupID int32, after record.ExtendedPage, limit int) ([]record.Extended, error) {
	if err := checkTenant(tenantID); err != nil {
		return nil, err
	}
	switch {
	case customerID <= 0:
		return nil, invalid("customer_id", "must be > 0")
	case groupID < 0:
		return nil, invalid("extended_group_id", "must be >= 0")
	case limit <= 0:
		return nil, invalid("page_size", "must be > 0")
	}
	rows, err := s.store.ListExtended(ctx, tenantID, customerID, groupID, after, limit)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		ok, err := s.store.CustomerExists(ctx, tenantID, customerID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: customer %d", ErrNotFound, customerID)
		}
	}
	return rows, nil
}

// UpdateExtended sets the fields named in fields ("field1" to "field30") of
// the record e identifies to their values in e, creating the record with
// every other field empty when it does not exist yet. Fields not named keep
// their values whatever e holds for them.
func (s *Service) UpdateExtended(ctx context.Context, tenantID string, e record.Extended, fields []string) (record.Extended, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Extended{}, err
	}
	if err := checkExtendedIDs(e.CustomerID, e.GroupID, e.ExtendedID); err != nil {
		return record.Extended{}, err
	}
	if len(fields) == 0 {
		return record.Extended{}, invalid("update_mask", "must name at least one field")
	}
	numbers := make([]int, 0, len(fields))
	for _, name := range fields {
		n, ok := extendedFieldNumber(name)
		if !ok {
			return record.Extended{}, invalid("update_mask", "unknown field %q; the fields are field1 to field%d", name, ExtendedFieldCount)
		}
		if err := checkText(name, e.Fields[n-1], maxNote); err != nil {
			return record.Extended{}, err
		}
		if !slices.Contains(numbers, n) {
			numbers = append(numbers, n)
		}
	}
	out, err := s.store.PatchExtended(ctx, tenantID, e, numbers)
	if errors.Is(err, store.ErrNotFound) {
		return record.Extended{}, fmt.Errorf("%w: customer %d", ErrNotFound, e.CustomerID)
	}
	return out, err
}
