package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Constraint names of customer.customers that a write can collide with.
const (
	ConstraintCustomerNumber = "customers_customer_number_key"
	ConstraintCustomerKey    = "customers_customer_key_key"
)

// ErrStale is an update whose expected version is no longer current.
var ErrStale = errors.New("stale version")

// ErrExhausted is a counter that ran past the largest id or number.
var ErrExhausted = errors.New("counter exhausted")

// Customer is a row of customer.customers. Field names follow the columns,
// which follow abacus.customer.v1.Customer.
type Customer struct {
	ID                 int32
	Key                string // "" is stored as NULL
	Number             string
	Name               string
	Status             int16
	Phone              string
	Fax                string
	BillLinkAddress    string
	ShipLinkAddress    string
	Territory          string
	Terms              string
	CreditLimit        decimal.Decimal
	Profile            string
	Note               string
	AccountStatus      string
	Division           string
	SalesReps          string
	CreditStatus       string
	ResellerNumber     string
	ARCallTime         *time.Time
	ARCallTimeText     string
	ARCallBy           string
	ARCallNote         string
	ARHighBalance      decimal.Decimal
	CreditNote         string
	AccountDate        *time.Time
	SaveInitials       string
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
	DeliveryTime       string
	SerialFlag         bool
	Overhead           decimal.Decimal
	IsEdited           string
	SalesDiscountID    string
	CustomerPrefix     string
	AccountTaxable     bool
	InactiveTime       *time.Time
	InactiveInitials   string
	UserID             string
	Version            int64
	CreateTime         time.Time
	ModifyTime         *time.Time
}

// customerColumn ties a column to its field. The SQL below is assembled from
// this one table (once, at start-up) so that the select list, the insert and
// the scan can never disagree on the order of 57 columns.
type customerColumn struct {
	name     string
	sel      string // select expression, when not the bare column
	arg      string // placeholder wrapper for writes, when not the bare placeholder
	readOnly bool   // set by the store, never by a caller
	field    func(*Customer) any
}

var customerColumns = []customerColumn{
	{name: "customer_id", readOnly: true, field: func(c *Customer) any { return &c.ID }},
	{name: "customer_key", sel: "coalesce(customer_key, '')", arg: "NULLIF(%s, '')", field: func(c *Customer) any { return &c.Key }},
	{name: "customer_number", field: func(c *Customer) any { return &c.Number }},
	{name: "name", field: func(c *Customer) any { return &c.Name }},
	{name: "status", field: func(c *Customer) any { return &c.Status }},
	{name: "phone", field: func(c *Customer) any { return &c.Phone }},
	{name: "fax", field: func(c *Customer) any { return &c.Fax }},
	{name: "bill_link_address", field: func(c *Customer) any { return &c.BillLinkAddress }},
	{name: "ship_link_address", field: func(c *Customer) any { return &c.ShipLinkAddress }},
	{name: "territory", field: func(c *Customer) any { return &c.Territory }},
	{name: "terms", field: func(c *Customer) any { return &c.Terms }},
	{name: "credit_limit", field: func(c *Customer) any { return &c.CreditLimit }},
	{name: "profile", field: func(c *Customer) any { return &c.Profile }},
	{name: "note", field: func(c *Customer) any { return &c.Note }},
	{name: "account_status", field: func(c *Customer) any { return &c.AccountStatus }},
	{name: "division", field: func(c *Customer) any { return &c.Division }},
	{name: "sales_reps", field: func(c *Customer) any { return &c.SalesReps }},
	{name: "credit_status", field: func(c *Customer) any { return &c.CreditStatus }},
	{name: "reseller_number", field: func(c *Customer) any { return &c.ResellerNumber }},
	{name: "ar_call_time", field: func(c *Customer) any { return &c.ARCallTime }},
	{name: "ar_call_time_text", field: func(c *Customer) any { return &c.ARCallTimeText }},
	{name: "ar_call_by", field: func(c *Customer) any { return &c.ARCallBy }},
	{name: "ar_call_note", field: func(c *Customer) any { return &c.ARCallNote }},
	{name: "ar_high_balance", field: func(c *Customer) any { return &c.ARHighBalance }},
	{name: "credit_note", field: func(c *Customer) any { return &c.CreditNote }},
	{name: "account_date", field: func(c *Customer) any { return &c.AccountDate }},
	{name: "save_initials", field: func(c *Customer) any { return &c.SaveInitials }},
	{name: "outside_margin", field: func(c *Customer) any { return &c.OutsideMargin }},
	{name: "tooling_margin", field: func(c *Customer) any { return &c.ToolingMargin }},
	{name: "material_margin", field: func(c *Customer) any { return &c.MaterialMargin }},
	{name: "labor_margin", field: func(c *Customer) any { return &c.LaborMargin }},
	{name: "minimum_order_amount", field: func(c *Customer) any { return &c.MinimumOrderAmount }},
	{name: "scrap_factor", field: func(c *Customer) any { return &c.ScrapFactor }},
	{name: "commission_item", field: func(c *Customer) any { return &c.CommissionItem }},
	{name: "customer_spec", field: func(c *Customer) any { return &c.CustomerSpec }},
	{name: "labor", field: func(c *Customer) any { return &c.Labor }},
	{name: "material", field: func(c *Customer) any { return &c.Material }},
	{name: "split1", field: func(c *Customer) any { return &c.Split1 }},
	{name: "split2", field: func(c *Customer) any { return &c.Split2 }},
	{name: "split_amount", field: func(c *Customer) any { return &c.SplitAmount }},
	{name: "split_percent", field: func(c *Customer) any { return &c.SplitPercent }},
	{name: "tooling", field: func(c *Customer) any { return &c.Tooling }},
	{name: "sic_code", field: func(c *Customer) any { return &c.SICCode }},
	{name: "sic_description", field: func(c *Customer) any { return &c.SICDescription }},
	{name: "delivery_time", field: func(c *Customer) any { return &c.DeliveryTime }},
	{name: "serial_flag", field: func(c *Customer) any { return &c.SerialFlag }},
	{name: "overhead", field: func(c *Customer) any { return &c.Overhead }},
	{name: "is_edited", field: func(c *Customer) any { return &c.IsEdited }},
	{name: "sales_discount_id", field: func(c *Customer) any { return &c.SalesDiscountID }},
	{name: "customer_prefix", field: func(c *Customer) any { return &c.CustomerPrefix }},
	{name: "account_taxable", field: func(c *Customer) any { return &c.AccountTaxable }},
	{name: "inactive_time", field: func(c *Customer) any { return &c.InactiveTime }},
	{name: "inactive_initials", field: func(c *Customer) any { return &c.InactiveInitials }},
	{name: "user_id", field: func(c *Customer) any { return &c.UserID }},
	{name: "version", readOnly: true, field: func(c *Customer) any { return &c.Version }},
	{name: "create_time", readOnly: true, field: func(c *Customer) any { return &c.CreateTime }},
	{name: "modify_time", readOnly: true, field: func(c *Customer) any { return &c.ModifyTime }},
}

// writable indexes the columns a caller may set, by name.
var writable = map[string]customerColumn{}

var (
	customerSelect string // the select list, in customerColumns order
	customerInsert string // $1 tenant, $2 customer id, then the writable columns
)

func init() {
	sel := make([]string, 0, len(customerColumns))
	cols := []string{"tenant_id", "customer_id"}
	vals := []string{"$1", "$2"}
	for _, c := range customerColumns {
		if c.sel != "" {
			sel = append(sel, c.sel)
		} else {
			sel = append(sel, c.name)
		}
		if c.readOnly {
			continue
		}
		writable[c.name] = c
		cols = append(cols, c.name)
		vals = append(vals, c.placeholder(len(vals)+1))
	}
	customerSelect = strings.Join(sel, ", ")
	// ON CONFLICT on the number only: a taken generated number is skipped,
	// while a taken key still fails with 23505.
	customerInsert = `INSERT INTO customer.customers (` + strings.Join(cols, ", ") + `)
		VALUES (` + strings.Join(vals, ", ") + `)
		ON CONFLICT (tenant_id, customer_number) DO NOTHING
		RETURNING ` + customerSelect
}

func (c customerColumn) placeholder(n int) string {
	p := "$" + strconv.Itoa(n)
	if c.arg != "" {
		return fmt.Sprintf(c.arg, p)
	}
	return p
}

func scanCustomer(row pgx.Row) (Customer, error) {
	var c Customer
	dest := make([]any, len(customerColumns))
	for i, col := range customerColumns {
		dest[i] = col.field(&c)
	}
	err := row.Scan(dest...)
	return c, err
}

func collectCustomers(rows pgx.Rows, what string) ([]Customer, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Customer, error) { return scanCustomer(r) })
	return out, translate(err, what)
}

// nextCounter increments the tenant's counter name (creating it at 1) and
// returns the new value. The row stays locked until tx ends.
const nextCounterSQL = `
	INSERT INTO customer.counters AS counters (tenant_id, name, value) VALUES ($1, $2, 1)
	ON CONFLICT (tenant_id, name) DO UPDATE SET value = counters.value + 1
	RETURNING value`

// skipTakenNumbers finds, from a taken number $2, the last number of the run
// of consecutive taken numbers, so the counter can jump past the run in one
// step. Numbers are ten digits, so text order is numeric order.
const skipTakenNumbersSQL = `
	SELECT coalesce(min(t.customer_number::bigint), $2::bigint)
	FROM customer.customers t
	WHERE t.tenant_id = $1 AND t.customer_number >= lpad($2::bigint::text, 10, '0')
	  AND NOT EXISTS (
	      SELECT 1 FROM customer.customers u
	      WHERE u.tenant_id = $1 AND u.customer_number = lpad((t.customer_number::bigint + 1)::text, 10, '0'))`

const setCounterSQL = `UPDATE customer.counters SET value = greatest(value, $3) WHERE tenant_id = $1 AND name = $2`

const (
	counterCustomerID     = "customer_id"
	counterCustomerNumber = "customer_number"
	maxCustomerNumber     = 9_999_999_999
	// maxNumberAttempts bounds the retries when generated numbers keep
	// colliding with numbers callers insert concurrently.
	maxNumberAttempts = 20
)

// CreateCustomer inserts c for tenantID with a new customer id. When
// c.Number is empty it is the next ten-digit number not already taken;
// otherwise a taken number is a *ConflictError on ConstraintCustomerNumber.
// The counters are incremented in the insert's transaction, so concurrent
// creates never share an id or a number.
func (s *Store) CreateCustomer(ctx context.Context, tenantID string, c Customer) (Customer, error) {
	var out Customer
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, nextCounterSQL, tenantID, counterCustomerID).Scan(&id); err != nil {
			return fmt.Errorf("next customer id: %w", err)
		}
		if id > math.MaxInt32 {
			return fmt.Errorf("customer ids: %w", ErrExhausted)
		}
		c.ID = int32(id)
		generate := c.Number == ""
		var n int64
		for attempt := 0; ; attempt++ {
			if generate {
				if err := tx.QueryRow(ctx, nextCounterSQL, tenantID, counterCustomerNumber).Scan(&n); err != nil {
					return fmt.Errorf("next customer number: %w", err)
				}
				if n > maxCustomerNumber {
					return fmt.Errorf("customer numbers: %w", ErrExhausted)
				}
				c.Number = fmt.Sprintf("%010d", n)
			}
			args := []any{tenantID, c.ID}
			for _, col := range customerColumns {
				if !col.readOnly {
					args = append(args, col.field(&c))
				}
			}
			row, err := scanCustomer(tx.QueryRow(ctx, customerInsert, args...))
			if err == nil {
				out = row
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if !generate {
				return &ConflictError{Constraint: ConstraintCustomerNumber}
			}
			if attempt == maxNumberAttempts {
				return fmt.Errorf("customer number: %d attempts collided", attempt+1)
			}
			var last int64
			if err := tx.QueryRow(ctx, skipTakenNumbersSQL, tenantID, n).Scan(&last); err != nil {
				return fmt.Errorf("skip taken numbers: %w", err)
			}
			if _, err := tx.Exec(ctx, setCounterSQL, tenantID, counterCustomerNumber, last); err != nil {
				return fmt.Errorf("skip taken numbers: %w", err)
			}
		}
	})
	return out, translate(err, "create customer")
}

// GetCustomer returns the customer id of tenantID.
func (s *Store) GetCustomer(ctx context.Context, tenantID string, id int32) (Customer, error) {
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND customer_id = $2`, tenantID, id))
	return c, translate(err, "get customer")
}

// FindCustomerByKey returns the customer of tenantID with key.
func (s *Store) FindCustomerByKey(ctx context.Context, tenantID, key string) (Customer, error) {
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND customer_key = $2`, tenantID, key))
	return c, translate(err, "find customer by key")
}

// FindCustomerByNumber returns the customer of tenantID with number.
func (s *Store) FindCustomerByNumber(ctx context.Context, tenantID, number string) (Customer, error) {
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND customer_number = $2`, tenantID, number))
	return c, translate(err, "find customer by number")
}

// FindCustomersByName returns up to limit customers of tenantID named
// exactly name, by id.
func (s *Store) FindCustomersByName(ctx context.Context, tenantID, name string, limit int) ([]Customer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND name = $2 ORDER BY customer_id LIMIT $3`, tenantID, name, limit)
	if err != nil {
		return nil, translate(err, "find customers by name")
	}
	return collectCustomers(rows, "find customers by name")
}

// UpdateCustomer sets the named columns of customer c.ID of tenantID to the
// values in c, bumps the version and sets modify_time: to c.ModifyTime when
// columns names it and it is not nil, else to now. expectedVersion 0
// updates whatever the version; otherwise a different current version is
// ErrStale. A missing customer is ErrNotFound.
func (s *Store) UpdateCustomer(ctx context.Context, tenantID string, c Customer, columns []string, expectedVersion int64) (Customer, error) {
	if len(columns) == 0 {
		return Customer{}, errors.New("update customer: no columns")
	}
	args := []any{tenantID, c.ID, expectedVersion}
	set := make([]string, 0, len(columns)+2)
	seen := map[string]bool{}
	modifyTime := "now()"
	for _, name := range columns {
		if name == "modify_time" {
			args = append(args, c.ModifyTime)
			modifyTime = fmt.Sprintf("coalesce($%d::timestamptz, now())", len(args))
			continue
		}
		col, ok := writable[name]
		if !ok {
			return Customer{}, fmt.Errorf("update customer: column %q is not writable", name)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		args = append(args, col.field(&c))
		set = append(set, col.name+" = "+col.placeholder(len(args)))
	}
	set = append(set, "version = version + 1", "modify_time = "+modifyTime)
	out, err := scanCustomer(s.pool.QueryRow(ctx, `UPDATE customer.customers SET `+strings.Join(set, ", ")+`
		WHERE tenant_id = $1 AND customer_id = $2 AND ($3::bigint = 0 OR version = $3::bigint)
		RETURNING `+customerSelect, args...))
	if !errors.Is(err, pgx.ErrNoRows) {
		return out, translate(err, "update customer")
	}
	// Nothing matched: tell a missing customer from a stale version.
	var current int64
	err = s.pool.QueryRow(ctx, `SELECT version FROM customer.customers WHERE tenant_id = $1 AND customer_id = $2`,
		tenantID, c.ID).Scan(&current)
	if err != nil {
		return Customer{}, translate(err, "update customer")
	}
	return Customer{}, fmt.Errorf("update customer: version is %d, not %d: %w", current, expectedVersion, ErrStale)
}

// CustomerFilter narrows a list; zero fields do not filter.
type CustomerFilter struct {
	Status     int16
	Territory  string
	NamePrefix string
}

// ListCustomers returns up to limit customers of tenantID with an id above
// afterID that pass f, by id.
func (s *Store) ListCustomers(ctx context.Context, tenantID string, f CustomerFilter, afterID int32, limit int) ([]Customer, error) {
	// Only the filters in use enter the query, so the planner sees each
	// shape separately and can use the name prefix index.
	where := []string{"tenant_id = $1", "customer_id > $2"}
	args := []any{tenantID, afterID}
	if f.Status != 0 {
		args = append(args, f.Status)
		where = append(where, "status = $"+strconv.Itoa(len(args)))
	}
	if f.Territory != "" {
		args = append(args, f.Territory)
		where = append(where, "territory = $"+strconv.Itoa(len(args)))
	}
	if f.NamePrefix != "" {
		args = append(args, escapeLike(f.NamePrefix)+"%")
		where = append(where, `name LIKE $`+strconv.Itoa(len(args))+` ESCAPE '\'`)
	}
	args = append(args, limit)
	rows, err := s.pool.Query(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY customer_id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, translate(err, "list customers")
	}
	return collectCustomers(rows, "list customers")
}

// CustomerExists reports whether customer id exists in tenantID.
func (s *Store) CustomerExists(ctx context.Context, tenantID string, id int32) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer.customers WHERE tenant_id = $1 AND customer_id = $2)`,
		tenantID, id).Scan(&ok)
	return ok, translate(err, "customer exists")
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike makes s match itself literally in a LIKE ... ESCAPE '\' pattern.
func escapeLike(s string) string { return likeEscaper.Replace(s) }
