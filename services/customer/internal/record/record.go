// Package record is the one home of the customer service's records: the
// MANEX customer, its status and the extended records. It imports neither
// gRPC nor the database driver, so every layer can share it: the store scans
// rows into it by column name, the domain checks it, grpcapi converts it.
//
// A Customer field's db tag is its column in customer.customers and its
// field name in abacus.customer.v1.Customer; its rule tag names the rule the
// domain applies when a caller sets it (see customer/rules.go), and is
// absent on the fields only the service sets.
//
// A new attribute takes: its field in abacus.customer.v1.Customer, a
// migration adding its column, its field here, and its two lines in
// grpcapi/convert.go (a test there fails until they are written). Only an
// attribute MANEX shows needs a row in the gateway's MANEX table too
// (gateway/internal/manex/record.go).
package record

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

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
	ID                 int32           `db:"customer_id"`                   // Exigo CustomerID; assigned on create
	Key                string          `db:"customer_key" rule:"key"`       // Exigo CustomerKey; optional, unique per tenant
	Number             string          `db:"customer_number" rule:"number"` // CUSTNO: ten digits, unique per tenant
	Name               string          `db:"name" rule:"name"`              // CUSTNAME
	Status             Status          `db:"status" rule:"status"`
	Phone              string          `db:"phone" rule:"line 19"`
	Fax                string          `db:"fax" rule:"line 19"`
	BillLinkAddress    string          `db:"bill_link_address" rule:"line 10"` // BLINKADD
	ShipLinkAddress    string          `db:"ship_link_address" rule:"line 10"` // SLINKADD
	Territory          string          `db:"territory" rule:"territory"`
	Terms              string          `db:"terms" rule:"terms"`
	CreditLimit        decimal.Decimal `db:"credit_limit" rule:"amount"` // CREDLIMIT
	Profile            string          `db:"profile" rule:"note"`
	Note               string          `db:"note" rule:"note"`               // CUSTNOTE
	AccountStatus      string          `db:"account_status" rule:"line 20"`  // ACCTSTATUS
	Division           string          `db:"division" rule:"line 20"`        // DIVISION
	SalesReps          string          `db:"sales_reps" rule:"line 100"`     // SREPS
	CreditStatus       string          `db:"credit_status" rule:"credit"`    // CREDITOK
	ResellerNumber     string          `db:"reseller_number" rule:"line 20"` // RESL_NO
	ARCallTime         *time.Time      `db:"ar_call_time" rule:"any"`
	ARCallTimeText     string          `db:"ar_call_time_text" rule:"line 8"` // AR_CALTIME
	ARCallBy           string          `db:"ar_call_by" rule:"line 10"`
	ARCallNote         string          `db:"ar_call_note" rule:"note"`
	ARHighBalance      decimal.Decimal `db:"ar_high_balance" rule:"amount"`
	CreditNote         string          `db:"credit_note" rule:"note"`
	AccountDate        *time.Time      `db:"account_date" rule:"any"`        // ACCT_DATE
	SaveInitials       string          `db:"save_initials" rule:"line 8"`    // SAVEINIT
	OutsideMargin      decimal.Decimal `db:"outside_margin" rule:"decimal"`  // OUT_MARGIN
	ToolingMargin      decimal.Decimal `db:"tooling_margin" rule:"decimal"`  // TL_MARGIN
	MaterialMargin     decimal.Decimal `db:"material_margin" rule:"decimal"` // MAT_MARGIN
	LaborMargin        decimal.Decimal `db:"labor_margin" rule:"decimal"`    // LAB_MARGIN
	MinimumOrderAmount decimal.Decimal `db:"minimum_order_amount" rule:"decimal"`
	ScrapFactor        decimal.Decimal `db:"scrap_factor" rule:"decimal"`
	CommissionItem     decimal.Decimal `db:"commission_item" rule:"decimal"`
	CustomerSpec       decimal.Decimal `db:"customer_spec" rule:"decimal"`
	Labor              bool            `db:"labor" rule:"any"`
	Material           bool            `db:"material" rule:"any"`
	Split1             decimal.Decimal `db:"split1" rule:"decimal"`
	Split2             decimal.Decimal `db:"split2" rule:"decimal"`
	SplitAmount        decimal.Decimal `db:"split_amount" rule:"decimal"`
	SplitPercent       decimal.Decimal `db:"split_percent" rule:"decimal"`
	Tooling            bool            `db:"tooling" rule:"any"`
	SICCode            string          `db:"sic_code" rule:"line 8"`
	SICDescription     string          `db:"sic_description" rule:"line 100"`
	DeliveryTime       string          `db:"delivery_time" rule:"line 20"` // DELIVTIME
	SerialFlag         bool            `db:"serial_flag" rule:"any"`       // SERIFLAG
	Overhead           decimal.Decimal `db:"overhead" rule:"decimal"`
	IsEdited           string          `db:"is_edited" rule:"line 1"`
	SalesDiscountID    string          `db:"sales_discount_id" rule:"line 10"` // SALEDSCTID
	CustomerPrefix     string          `db:"customer_prefix" rule:"line 10"`   // CUSTPFX
	AccountTaxable     bool            `db:"account_taxable" rule:"any"`       // ACTTAXABLE
	InactiveTime       *time.Time      `db:"inactive_time" rule:"any"`
	InactiveInitials   string          `db:"inactive_initials" rule:"line 8"`
	UserID             string          `db:"user_id" rule:"line 50"`
	Version            int64           `db:"version"` // incremented on every change
	CreateTime         time.Time       `db:"create_time"`
	ModifyTime         *time.Time      `db:"modify_time"` // nil until the first update
}

// ExtendedFieldCount is how many free text fields an extended record has.
const ExtendedFieldCount = 30

// Extended is one extended record of a customer (Exigo CustomerExtended):
// 30 free text fields under an extended group and a record id.
type Extended struct {
	CustomerID int32
	GroupID    int32                      // ExtendedGroupID
	ExtendedID int32                      // CustomerExtendedID
	Fields     [ExtendedFieldCount]string // Fields[0] is field1
	Version    int64
	UpdateTime time.Time
}

// ExtendedPage is a keyset position in a customer's extended records,
// ordered by group then record id; the zero value is the start.
type ExtendedPage struct {
	GroupID    int32
	ExtendedID int32
}
