// Package customer is the domain of a tenant's customers: the MANEX Customer
// Main attributes with their rules, the Exigo numeric id and alphanumeric
// key, the ten-digit customer number, and the extended records.
package customer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

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

// Status is the MANEX account status. Its values are the numbers of
// abacus.customer.v1.CustomerStatus and of the status column.
type Status int16

// Statuses.
const (
	StatusUnspecified Status = 0
	StatusActive      Status = 1
	StatusInactive    Status = 2
	StatusQuote       Status = 3
)

// Valid reports whether s is a status a customer can have.
func (s Status) Valid() bool { return s >= StatusActive && s <= StatusQuote }

// String returns the MANEX spelling: Active, Inactive or Quote.
func (s Status) String() string {
	switch s {
	case StatusActive:
		return "Active"
	case StatusInactive:
		return "Inactive"
	case StatusQuote:
		return "Quote"
	}
	return fmt.Sprintf("Status(%d)", int16(s))
}

// Customer is a customer of a tenant. Comments give the MANEX key where the
// name differs; decimals are exact, nil times are absent.
type Customer struct {
	ID                 int32  // Exigo CustomerID; assigned on create
	Key                string // Exigo CustomerKey; optional, unique per tenant
	Number             string // CUSTNO: ten digits, unique per tenant
	Name               string // CUSTNAME
	Status             Status
	Phone              string
	Fax                string
	BillLinkAddress    string // BLINKADD
	ShipLinkAddress    string // SLINKADD
	Territory          string
	Terms              string
	CreditLimit        decimal.Decimal // CREDLIMIT
	Profile            string
	Note               string // CUSTNOTE
	AccountStatus      string // ACCTSTATUS
	Division           string
	SalesReps          string // SREPS
	CreditStatus       string // CREDITOK
	ResellerNumber     string // RESL_NO
	ARCallTime         *time.Time
	ARCallTimeText     string // AR_CALTIME
	ARCallBy           string
	ARCallNote         string
	ARHighBalance      decimal.Decimal
	CreditNote         string
	AccountDate        *time.Time // ACCT_DATE
	SaveInitials       string     // SAVEINIT
	OutsideMargin      decimal.Decimal
	ToolingMargin      decimal.Decimal
	MaterialMargin     decimal.Decimal
	LaborMargin        decimal.Decimal
	MinimumOrderAmount decimal.Decimal
	ScrapFactor        decimal.Decimal
	CommissionItem     decimal.Decimal
	CustomerSpec       decimal.Decimal
	Labor              bool
	Material           bool
	Split1             decimal.Decimal
	Split2             decimal.Decimal
	SplitAmount        decimal.Decimal
	SplitPercent       decimal.Decimal
	Tooling            bool
	SICCode            string
	SICDescription     string
	DeliveryTime       string // DELIVTIME
	SerialFlag         bool   // SERIFLAG
	Overhead           decimal.Decimal
	IsEdited           string
	SalesDiscountID    string // SALEDSCTID
	CustomerPrefix     string // CUSTPFX
	AccountTaxable     bool   // ACTTAXABLE
	InactiveTime       *time.Time
	InactiveInitials   string
	UserID             string
	Version            int64 // incremented on every change
	CreateTime         time.Time
	ModifyTime         *time.Time // nil until the first update
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
func (s *Service) Create(ctx context.Context, tenantID string, c Customer) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if err := c.validate(); err != nil {
		return Customer{}, err
	}
	if c.AccountDate == nil {
		// Postgres keeps microseconds; round here so the answer matches what
		// a later read returns.
		now := s.now().UTC().Truncate(time.Microsecond)
		c.AccountDate = &now
	}
	c.ID, c.Version, c.CreateTime, c.ModifyTime = 0, 0, time.Time{}, nil
	row, err := s.store.CreateCustomer(ctx, tenantID, toRow(c))
	if err != nil {
		return Customer{}, conflict(err, c)
	}
	return fromRow(row), nil
}

// validate applies every rule to a new customer; the first broken one is
// the error.
func (c *Customer) validate() error {
	if c.Status == StatusUnspecified {
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
func conflict(err error, c Customer) error {
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
func (s *Service) Get(ctx context.Context, tenantID string, id int32) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if id <= 0 {
		return Customer{}, invalid("customer_id", "must be > 0")
	}
	row, err := s.store.GetCustomer(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Customer{}, fmt.Errorf("%w: customer %d", ErrNotFound, id)
	}
	return fromRow(row), err
}

// LookupByKey returns the customer of tenantID with the Exigo key.
func (s *Service) LookupByKey(ctx context.Context, tenantID, key string) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if rule := textrule.Key(key); rule != "" {
		return Customer{}, invalid("customer_key", "%s", rule)
	}
	row, err := s.store.FindCustomerByKey(ctx, tenantID, key)
	if errors.Is(err, store.ErrNotFound) {
		return Customer{}, fmt.Errorf("%w: customer with key %q", ErrNotFound, key)
	}
	return fromRow(row), err
}

// LookupByNumber returns the customer of tenantID with the MANEX number.
func (s *Service) LookupByNumber(ctx context.Context, tenantID, number string) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if !numberPattern.MatchString(number) {
		return Customer{}, invalid("customer_number", "must be 10 digits")
	}
	row, err := s.store.FindCustomerByNumber(ctx, tenantID, number)
	if errors.Is(err, store.ErrNotFound) {
		return Customer{}, fmt.Errorf("%w: customer number %s", ErrNotFound, number)
	}
	return fromRow(row), err
}

// LookupByName returns the one customer of tenantID named exactly name. When
// several share the name it is ErrAmbiguous: the caller must choose by
// number or key, the service never guesses.
func (s *Service) LookupByName(ctx context.Context, tenantID, name string) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if err := checkTextRule("name", name, maxName, textrule.Name); err != nil {
		return Customer{}, err
	}
	rows, err := s.store.FindCustomersByName(ctx, tenantID, name, 2)
	switch {
	case err != nil:
		return Customer{}, err
	case len(rows) == 0:
		return Customer{}, fmt.Errorf("%w: customer named %q", ErrNotFound, name)
	case len(rows) > 1:
		return Customer{}, fmt.Errorf("%w: several customers are named %q; look up by number or key", ErrAmbiguous, name)
	}
	return fromRow(rows[0]), nil
}

// Update sets the fields named in fields (proto field names such as "name"
// or "credit_limit") of customer c.ID of tenantID to their values in c, and
// leaves every other field as it is. expectedVersion 0 updates whatever the
// version; otherwise it must be the current version, else ErrStale.
//
// The modification time becomes now, unless fields names "modify_time":
// then it is c.ModifyTime (now when nil). MANEX's Edit lets a caller date
// its change (modifieddate); nothing else sets it.
func (s *Service) Update(ctx context.Context, tenantID string, c Customer, fields []string, expectedVersion int64) (Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return Customer{}, err
	}
	if c.ID <= 0 {
		return Customer{}, invalid("customer_id", "must be > 0")
	}
	if expectedVersion < 0 {
		return Customer{}, invalid("version", "must be >= 0")
	}
	if len(fields) == 0 {
		return Customer{}, invalid("update_mask", "must name at least one field")
	}
	for _, name := range fields {
		if name == modifyTimeField {
			continue
		}
		f, ok := fieldByName[name]
		switch {
		case !ok && outputOnly[name]:
			return Customer{}, invalid("update_mask", "%s cannot be changed", name)
		case !ok:
			return Customer{}, invalid("update_mask", "unknown field %q", name)
		}
		if err := f.check(&c); err != nil {
			return Customer{}, err
		}
		// Empty is allowed on create (a number is then generated), not here.
		if name == "customer_number" && c.Number == "" {
			return Customer{}, invalid("customer_number", "must be 10 digits")
		}
		if name == "status" && c.Status == StatusUnspecified {
			return Customer{}, invalid("status", "is required")
		}
	}
	row, err := s.store.UpdateCustomer(ctx, tenantID, toRow(c), fields, expectedVersion)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Customer{}, fmt.Errorf("%w: customer %d", ErrNotFound, c.ID)
	case errors.Is(err, store.ErrStale):
		return Customer{}, fmt.Errorf("%w: customer %d has changed since version %d", ErrStale, c.ID, expectedVersion)
	case err != nil:
		return Customer{}, conflict(err, c)
	}
	return fromRow(row), nil
}

// Filter narrows a list of customers; zero fields do not filter.
type Filter struct {
	Status     Status
	Territory  string
	NamePrefix string
}

// List returns up to limit customers of tenantID with an id above afterID
// that pass f, by id.
func (s *Service) List(ctx context.Context, tenantID string, f Filter, afterID int32, limit int) ([]Customer, error) {
	if err := checkTenant(tenantID); err != nil {
		return nil, err
	}
	if f.Status != StatusUnspecified && !f.Status.Valid() {
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
	rows, err := s.store.ListCustomers(ctx, tenantID, store.CustomerFilter{
		Status: int16(f.Status), Territory: f.Territory, NamePrefix: f.NamePrefix,
	}, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Customer, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}
