// Package ledger is the domain of the ledger service: immutable entries and
// running balances per customer, currency and website; idempotent postings
// group-committed into shared transactions; and the change stream.
package ledger

import (
	"errors"
	"time"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/platform/fielderr"
)

// Domain errors; grpcapi maps them to codes in one place.
var (
	ErrInvalid  = fielderr.ErrInvalid
	ErrNotFound = errors.New("not found")
	// ErrKeyReused is an idempotency key sent again with a different request.
	ErrKeyReused = errors.New("idempotency key already used")
	// ErrUnavailable is a dependency that is down or a service shutting
	// down; retrying later (with the same idempotency key) is safe.
	ErrUnavailable = errors.New("unavailable")
	// ErrOutcomeUnknown is a posting whose COMMIT was cut off: it may or may
	// not have been written. Retrying with the same idempotency key settles it.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// FieldError is an invalid value: Field names it (the proto field name) and
// Rule says what it must be. It unwraps to ErrInvalid.
type FieldError = fielderr.Error

func invalid(field, format string, args ...any) error {
	return fielderr.New(field, format, args...)
}

// Kind is what an entry records.
type Kind string

// Kinds.
const (
	KindOrder       Kind = "ORDER"
	KindPayment     Kind = "PAYMENT"
	KindAdjustment  Kind = "ADJUSTMENT"
	KindStoreCredit Kind = "STORE_CREDIT"
)

// Magento store-credit actions (the action of a STORE_CREDIT entry).
const (
	ActionUpdated  int32 = 1
	ActionCreated  int32 = 2
	ActionUsed     int32 = 3
	ActionRefunded int32 = 4
	ActionReverted int32 = 5
)

// Posting is what a caller asks to post. Amount is the decimal string as
// sent; Kind and Action give its sign (see Delta).
type Posting struct {
	CustomerID     int32
	Currency       string
	WebsiteID      int32 // 0 when none
	Kind           Kind
	Action         int32
	Amount         string
	Comment        string
	NotifyCustomer bool
}

// Entry is an immutable ledger entry.
type Entry struct {
	ID             int64
	StreamSeq      int64 // position in the tenant's change stream
	BalanceID      int64
	CustomerID     int32
	Currency       string
	Scale          int32 // the currency's scale, for rendering
	WebsiteID      int32
	Kind           Kind
	Action         int32
	Delta          decimal.Decimal
	BalanceAfter   decimal.Decimal
	IdempotencyKey string
	Comment        string
	NotifyCustomer bool
	PostTime       time.Time
	// Continues is true when the next entry of the stream belongs to the
	// same transaction; only the stream sets it.
	Continues bool
}

// Balance is the running balance of one (customer, currency, website).
type Balance struct {
	ID          int64
	CustomerID  int32
	Currency    string
	Scale       int32
	WebsiteID   int32
	Amount      decimal.Decimal
	LastEntryID int64
	UpdateTime  time.Time
}

// CurrencyBalance is a customer's balance in one currency over all websites.
type CurrencyBalance struct {
	Currency    string
	Description string
	Scale       int32
	Amount      decimal.Decimal
}

// Currency is a row of a tenant's currency table.
type Currency struct {
	Code        string
	Description string
	Scale       int32 // decimals allowed in amounts
}

// Result is the answer to a posting: its entries and, per balance they
// touched (in order of first touch), that balance right after the last of
// them. A replay answers exactly what the first posting did.
type Result struct {
	Entries  []Entry
	Balances []Balance
	Replayed bool
}

// resultOf derives a Result from entries alone, so that the first answer
// and every replay of it are the same.
func resultOf(entries []Entry) Result {
	var balances []Balance
	at := map[int64]int{}
	for _, e := range entries {
		b := Balance{
			ID: e.BalanceID, CustomerID: e.CustomerID, Currency: e.Currency, Scale: e.Scale,
			WebsiteID: e.WebsiteID, Amount: e.BalanceAfter, LastEntryID: e.ID, UpdateTime: e.PostTime,
		}
		if i, ok := at[e.BalanceID]; ok {
			balances[i] = b
			continue
		}
		at[e.BalanceID] = len(balances)
		balances = append(balances, b)
	}
	return Result{Entries: entries, Balances: balances}
}
