// Package customer is the domain of a tenant's customers: the rules of the
// MANEX Customer Main attributes, the Exigo numeric id and alphanumeric key,
// the ten-digit customer number, and the extended records. The records
// themselves are package record's.
package customer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/platform/fielderr"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

// Domain errors; grpcapi maps them to codes in one place.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrInvalid       = fielderr.ErrInvalid
	// ErrAmbiguous is a lookup by name that matches several customers.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrStale is an update that expected a version that is no longer current.
	ErrStale = errors.New("stale version")
)

// FieldError is an invalid value: Field names it (the proto field name) and
// Rule says what it must be. It unwraps to ErrInvalid.
type FieldError = fielderr.Error

func invalid(field, format string, args ...any) error {
	return fielderr.New(field, format, args...)
}

// Service manages customers and their extended records.
type Service struct {
	store *store.Store
	now   func() time.Time
}

// NewService returns a service over st.
func NewService(st *store.Store) *Service { return &Service{store: st, now: time.Now} }

func checkTenant(tenantID string) error {
	if _, err := uuid.Parse(tenantID); err != nil {
		return invalid("tenant", "must be a UUID")
	}
	return nil
}

// Create adds a customer to tenantID. Status is required; the customer
// number is the next free ten-digit number when empty; the account date is
// now when nil. ID, Version and the times are assigned.
func (s *Service) Create(ctx context.Context, tenantID string, c record.Customer) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if err := validate(&c); err != nil {
		return record.Customer{}, err
	}
	if c.AccountDate == nil {
		// Postgres keeps microseconds; round here so the answer matches what
		// a later read returns.
		now := s.now().UTC().Truncate(time.Microsecond)
		c.AccountDate = &now
	}
	c.ID, c.Version, c.CreateTime, c.ModifyTime = 0, 0, time.Time{}, nil
	row, err := s.store.CreateCustomer(ctx, tenantID, c)
	if err != nil {
		return record.Customer{}, conflict(err, c)
	}
	return row, nil
}

// validate applies every rule to a new customer; the first broken one is
// the error.
func validate(c *record.Customer) error {
	if c.Status == record.StatusUnspecified {
		return invalid("status", "is required")
	}
	for _, f := range customerFields {
		if err := f.check(c); err != nil {
			return err
		}
	}
	return nil
}

// conflict names the unique key a write collided with.
func conflict(err error, c record.Customer) error {
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Constraint {
	case store.ConstraintCustomerNumber:
		return fmt.Errorf("%w: customer_number %s is taken", ErrAlreadyExists, c.Number)
	case store.ConstraintCustomerKey:
		return fmt.Errorf("%w: customer_key %q is taken", ErrAlreadyExists, c.Key)
	}
	return fmt.Errorf("%w: %s", ErrAlreadyExists, ce.Constraint)
}

// Get returns customer id of tenantID.
func (s *Service) Get(ctx context.Context, tenantID string, id int32) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if id <= 0 {
		return record.Customer{}, invalid("customer_id", "must be > 0")
	}
	row, err := s.store.GetCustomer(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return record.Customer{}, fmt.Errorf("%w: customer %d", ErrNotFound, id)
	}
	return row, err
}

// LookupByKey returns the customer of tenantID with the Exigo key.
func (s *Service) LookupByKey(ctx context.Context, tenantID, key string) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if rule := textrule.Key(key); rule != "" {
		return record.Customer{}, invalid("customer_key", "%s", rule)
	}
	row, err := s.store.FindCustomerByKey(ctx, tenantID, key)
	if errors.Is(err, store.ErrNotFound) {
		return record.Customer{}, fmt.Errorf("%w: customer with key %q", ErrNotFound, key)
	}
	return row, err
}

// LookupByNumber returns the customer of tenantID with the MANEX number.
func (s *Service) LookupByNumber(ctx context.Context, tenantID, number string) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if !numberPattern.MatchString(number) {
		return record.Customer{}, invalid("customer_number", "must be 10 digits")
	}
	row, err := s.store.FindCustomerByNumber(ctx, tenantID, number)
	if errors.Is(err, store.ErrNotFound) {
		return record.Customer{}, fmt.Errorf("%w: customer number %s", ErrNotFound, number)
	}
	return row, err
}

// LookupByName returns the one customer of tenantID named exactly name. When
// several share the name it is ErrAmbiguous: the caller must choose by
// number or key, the service never guesses.
func (s *Service) LookupByName(ctx context.Context, tenantID, name string) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if err := checkTextRule("name", name, maxName, textrule.Name); err != nil {
		return record.Customer{}, err
	}
	rows, err := s.store.FindCustomersByName(ctx, tenantID, name, 2)
	switch {
	case err != nil:
		return record.Customer{}, err
	case len(rows) == 0:
		return record.Customer{}, fmt.Errorf("%w: customer named %q", ErrNotFound, name)
	case len(rows) > 1:
		return record.Customer{}, fmt.Errorf("%w: several customers are named %q; look up by number or key", ErrAmbiguous, name)
	}
	return rows[0], nil
}

// Update sets the fields named in fields (proto field names such as "name"
// or "credit_limit") of customer c.ID of tenantID to their values in c, and
// leaves every other field as it is. expectedVersion 0 updates whatever the
// version; otherwise it must be the current version, else ErrStale.
//
// The modification time becomes now, unless fields names "modify_time":
// then it is c.ModifyTime (now when nil). MANEX's Edit lets a caller date
// its change (modifieddate); nothing else sets it.
func (s *Service) Update(ctx context.Context, tenantID string, c record.Customer, fields []string, expectedVersion int64) (record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return record.Customer{}, err
	}
	if c.ID <= 0 {
		return record.Customer{}, invalid("customer_id", "must be > 0")
	}
	if expectedVersion < 0 {
		return record.Customer{}, invalid("version", "must be >= 0")
	}
	if len(fields) == 0 {
		return record.Customer{}, invalid("update_mask", "must name at least one field")
	}
	for _, name := range fields {
		if name == modifyTimeField {
			continue
		}
		f, ok := fieldByName[name]
		switch {
		case !ok && outputOnly[name]:
			return record.Customer{}, invalid("update_mask", "%s cannot be changed", name)
		case !ok:
			return record.Customer{}, invalid("update_mask", "unknown field %q", name)
		}
		if err := f.check(&c); err != nil {
			return record.Customer{}, err
		}
		// Empty is allowed on create (a number is then generated), not here.
		if name == "customer_number" && c.Number == "" {
			return record.Customer{}, invalid("customer_number", "must be 10 digits")
		}
		if name == "status" && c.Status == record.StatusUnspecified {
			return record.Customer{}, invalid("status", "is required")
		}
	}
	row, err := s.store.UpdateCustomer(ctx, tenantID, c, fields, expectedVersion)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return record.Customer{}, fmt.Errorf("%w: customer %d", ErrNotFound, c.ID)
	case errors.Is(err, store.ErrStale):
		return record.Customer{}, fmt.Errorf("%w: customer %d has changed since version %d", ErrStale, c.ID, expectedVersion)
	case err != nil:
		return record.Customer{}, conflict(err, c)
	}
	return row, nil
}

// Filter narrows a list of customers; zero fields do not filter.
type Filter struct {
	Status     record.Status
	Territory  string
	NamePrefix string
}

// List returns up to limit customers of tenantID with an id above afterID
// that pass f, by id.
func (s *Service) List(ctx context.Context, tenantID string, f Filter, afterID int32, limit int) ([]record.Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return nil, err
	}
	if f.Status != record.StatusUnspecified && !f.Status.Valid() {
		return nil, invalid("status", "must be Active, Inactive or Quote")
	}
	if err := checkText("territory", f.Territory, maxName); err != nil {
		return nil, err
	}
	if err := checkTextRule("name_prefix", f.NamePrefix, maxName, textrule.Line); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, invalid("page_size", "must be > 0")
	}
	return s.store.ListCustomers(ctx, tenantID, store.CustomerFilter{
		Status: f.Status, Territory: f.Territory, NamePrefix: f.NamePrefix,
	}, afterID, limit)
}
