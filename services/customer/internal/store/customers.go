package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/services/customer/internal/record"
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

// The columns of customer.customers are the db tags of record.Customer, and
// the SQL below is assembled from them once, at start-up, so the select list,
// the insert and the scan can never disagree on 57 columns. Rows are scanned
// by name (pgx.RowToStructByName).
var (
	// writable are the columns a caller sets, with the index of their field
	// in record.Customer; the store sets the others itself.
	writable      = map[string]int{}
	writableOrder []string
	// customerSelect is the select list: each column under its own name.
	customerSelect string
	// customerInsert takes $1 tenant, $2 customer id, then writableOrder.
	customerInsert string
)

// storeSet are the columns the store fills in: the id from the tenant's
// counter, the version and the times from the database.
var storeSet = map[string]bool{"customer_id": true, "version": true, "create_time": true, "modify_time": true}

func init() {
	t := reflect.TypeFor[record.Customer]()
	sel := make([]string, 0, t.NumField())
	cols := []string{"tenant_id", "customer_id"}
	vals := []string{"$1", "$2"}
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("db")
		if name == "" {
			panic("store: record.Customer." + t.Field(i).Name + " has no db tag")
		}
		sel = append(sel, selectExpr(name))
		if storeSet[name] {
			continue
		}
		writable[name] = i
		writableOrder = append(writableOrder, name)
		cols = append(cols, name)
		vals = append(vals, placeholder(name, len(vals)+1))
	}
	customerSelect = strings.Join(sel, ", ")
	// ON CONFLICT on the number only: a taken generated number is skipped,
	// while a taken key still fails with 23505.
	customerInsert = `INSERT INTO customer.customers (` + strings.Join(cols, ", ") + `)
		VALUES (` + strings.Join(vals, ", ") + `)
		ON CONFLICT (tenant_id, customer_number) DO NOTHING
		RETURNING ` + customerSelect
}

// The key is the one column whose type differs from its field's: an absent
// key is NULL, so that any number of customers can have none, and "" in Go.

func selectExpr(column string) string {
	if column == "customer_key" {
		return "coalesce(customer_key, '') AS customer_key"
	}
	return column
}

func placeholder(column string, n int) string {
	p := "$" + strconv.Itoa(n)
	if column == "customer_key" {
		return "NULLIF(" + p + ", '')"
	}
	return p
}

// value is the argument that writes column from c.
func value(c *record.Customer, column string) any {
	return reflect.ValueOf(c).Elem().Field(writable[column]).Interface()
}

// scanCustomer reads the one row of a query (pgx.ErrNoRows when none); it
// takes Query's results as they come.
func scanCustomer(rows pgx.Rows, err error) (record.Customer, error) {
	if err != nil {
		return record.Customer{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[record.Customer])
}

// collectCustomers reads every row of a query; it takes Query's results as
// they come.
func collectCustomers(rows pgx.Rows, err error, what string) ([]record.Customer, error) {
	if err != nil {
		return nil, translate(err, what)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[record.Customer])
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
func (s *Store) CreateCustomer(ctx context.Context, tenantID string, c record.Customer) (record.Customer, error) {
	var out record.Customer
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
			for _, col := range writableOrder {
				args = append(args, value(&c, col))
			}
			row, err := scanCustomer(tx.Query(ctx, customerInsert, args...))
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
func (s *Store) GetCustomer(ctx context.Context, tenantID string, id int32) (record.Customer, error) {
	return s.findCustomer(ctx, "get customer", "customer_id = $2", tenantID, id)
}

// FindCustomerByKey returns the customer of tenantID with key.
func (s *Store) FindCustomerByKey(ctx context.Context, tenantID, key string) (record.Customer, error) {
	return s.findCustomer(ctx, "find customer by key", "customer_key = $2", tenantID, key)
}

// FindCustomerByNumber returns the customer of tenantID with number.
func (s *Store) FindCustomerByNumber(ctx context.Context, tenantID, number string) (record.Customer, error) {
	return s.findCustomer(ctx, "find customer by number", "customer_number = $2", tenantID, number)
}

// findCustomer returns the customer of tenant $1 that cond picks.
func (s *Store) findCustomer(ctx context.Context, what, cond string, args ...any) (record.Customer, error) {
	c, err := scanCustomer(s.pool.Query(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND `+cond, args...))
	return c, translate(err, what)
}

// FindCustomersByName returns up to limit customers of tenantID named
// exactly name, by id.
func (s *Store) FindCustomersByName(ctx context.Context, tenantID, name string, limit int) ([]record.Customer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+customerSelect+` FROM customer.customers
		WHERE tenant_id = $1 AND name = $2 ORDER BY customer_id LIMIT $3`, tenantID, name, limit)
	return collectCustomers(rows, err, "find customers by name")
}

// UpdateCustomer sets the named columns of customer c.ID of tenantID to the
// values in c, bumps the version and sets modify_time: to c.ModifyTime when
// columns names it and it is not nil, else to now. expectedVersion 0
// updates whatever the version; otherwise a different current version is
// ErrStale. A missing customer is ErrNotFound.
func (s *Store) UpdateCustomer(ctx context.Context, tenantID string, c record.Customer, columns []string, expectedVersion int64) (record.Customer, error) {
	if len(columns) == 0 {
		return record.Customer{}, errors.New("update customer: no columns")
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
		if _, ok := writable[name]; !ok {
			return record.Customer{}, fmt.Errorf("update customer: column %q is not writable", name)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		args = append(args, value(&c, name))
		set = append(set, name+" = "+placeholder(name, len(args)))
	}
	set = append(set, "version = version + 1", "modify_time = "+modifyTime)
	out, err := scanCustomer(s.pool.Query(ctx, `UPDATE customer.customers SET `+strings.Join(set, ", ")+`
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
		return record.Customer{}, translate(err, "update customer")
	}
	return record.Customer{}, fmt.Errorf("update customer: version is %d, not %d: %w", current, expectedVersion, ErrStale)
}

// CustomerFilter narrows a list; zero fields do not filter.
type CustomerFilter struct {
	Status     record.Status
	Territory  string
	NamePrefix string
}

// ListCustomers returns up to limit customers of tenantID with an id above
// afterID that pass f, by id.
func (s *Store) ListCustomers(ctx context.Context, tenantID string, f CustomerFilter, afterID int32, limit int) ([]record.Customer, error) {
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
	return collectCustomers(rows, err, "list customers")
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
