package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/platform/idemkey"
)

// maxCommentLen bounds a comment in characters (code points), as the proto's
// max_len does, so a comment the gRPC validation passes is not refused here.
const maxCommentLen = 1000

// valid is a posting that passed every check but customer existence: its
// signed delta and its currency's scale are known.
type valid struct {
	Posting
	amount decimal.Decimal
	delta  decimal.Decimal
	scale  int32
}

// Delta returns the signed change a posting of kind and action makes with
// amount, or what is wrong with them:
//
//	PAYMENT                   +amount, amount > 0
//	ORDER                     -amount, amount > 0
//	ADJUSTMENT                 amount, signed
//	STORE_CREDIT 1 Updated     amount, signed
//	STORE_CREDIT 2 Created     amount, signed
//	STORE_CREDIT 3 Used       -amount, amount > 0
//	STORE_CREDIT 4 Refunded   +amount, amount > 0
//	STORE_CREDIT 5 Reverted   +amount, amount > 0
//
// The action must be 0 for every kind but STORE_CREDIT; a zero amount is
// refused. The error's Field is "kind", "action" or "amount".
func Delta(kind Kind, action int32, amount decimal.Decimal) (decimal.Decimal, error) {
	switch kind {
	case KindOrder, KindPayment, KindAdjustment, KindStoreCredit:
	default:
		return decimal.Decimal{}, invalid("kind", "must be ORDER, PAYMENT, ADJUSTMENT or STORE_CREDIT")
	}
	if kind == KindStoreCredit {
		if action < ActionUpdated || action > ActionReverted {
			return decimal.Decimal{}, invalid("action", "must be 1 to 5 (Updated, Created, Used, Refunded, Reverted) for STORE_CREDIT")
		}
	} else if action != 0 {
		return decimal.Decimal{}, invalid("action", "must be 0 unless kind is STORE_CREDIT")
	}
	if amount.IsZero() {
		return decimal.Decimal{}, invalid("amount", "must not be zero")
	}
	positive := func(sign int) (decimal.Decimal, error) {
		if !amount.IsPositive() {
			return decimal.Decimal{}, invalid("amount", "must be positive for %s (the kind gives the sign)", describe(kind, action))
		}
		if sign < 0 {
			return amount.Neg(), nil
		}
		return amount, nil
	}
	switch kind {
	case KindPayment:
		return positive(+1)
	case KindOrder:
		return positive(-1)
	case KindAdjustment:
		return amount, nil
	}
	switch action { // STORE_CREDIT
	case ActionUpdated, ActionCreated:
		return amount, nil
	case ActionUsed:
		return positive(-1)
	default: // Refunded, Reverted
		return positive(+1)
	}
}

func describe(kind Kind, action int32) string {
	if kind != KindStoreCredit {
		return string(kind)
	}
	return [...]string{"", "", "", "store-credit action 3 Used", "store-credit action 4 Refunded", "store-credit action 5 Reverted"}[action]
}

// validate checks p against the tenant's currencies; prefix is the field
// path of p ("posting." or "postings[3].").
func validate(p Posting, currencies map[string]Currency, prefix string) (valid, error) {
	amount, decimals, err := ParseAmount(p.Amount)
	if err != nil {
		return valid{}, invalid(prefix+"amount", "%s", err.Error())
	}
	delta, err := Delta(p.Kind, p.Action, amount)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Field = prefix + fe.Field
		}
		return valid{}, err
	}
	switch {
	case p.CustomerID <= 0:
		return valid{}, invalid(prefix+"customer_id", "must be greater than 0")
	case p.WebsiteID < 0:
		return valid{}, invalid(prefix+"website_id", "must be 0 (none) or greater")
	case !utf8.ValidString(p.Comment) || utf8.RuneCountInString(p.Comment) > maxCommentLen || strings.ContainsRune(p.Comment, 0):
		return valid{}, invalid(prefix+"comment", "must be valid text of at most %d characters without NUL characters", maxCommentLen)
	}
	c, ok := currencies[p.Currency]
	if !ok {
		return valid{}, invalid(prefix+"currency", "%q is not in the tenant's currency table", p.Currency)
	}
	if int32(decimals) > c.Scale {
		return valid{}, invalid(prefix+"amount", "has %d decimals; %s allows at most %d", decimals, c.Code, c.Scale)
	}
	return valid{Posting: p, amount: amount, delta: delta, scale: c.Scale}, nil
}

func checkKey(key string) error {
	// The metadata that may carry the key is not validated by the proto,
	// so the domain checks every key, whichever way it came.
	if key != "" && !idemkey.Valid(key) {
		return invalid("idempotency_key", "%s", idemkey.Rule)
	}
	return nil
}

// requestHash identifies a request for idempotency: two requests with the
// same key are "the same" when their hashes match. Amounts count by value
// ("25" and "25.00" are the same); a batch of one posting is not the same
// request as that single posting, since the answers differ in shape.
func requestHash(batch bool, ps []valid) []byte {
	type canonical struct {
		Customer int32  `json:"c"`
		Currency string `json:"cur"`
		Website  int32  `json:"w"`
		Kind     Kind   `json:"k"`
		Action   int32  `json:"a"`
		Amount   string `json:"amt"`
		Comment  string `json:"cm"`
		Notify   bool   `json:"n"`
	}
	req := struct {
		Batch    bool        `json:"batch"`
		Postings []canonical `json:"p"`
	}{Batch: batch, Postings: make([]canonical, len(ps))}
	for i, p := range ps {
		req.Postings[i] = canonical{p.CustomerID, p.Currency, p.WebsiteID, p.Kind, p.Action, p.amount.String(), p.Comment, p.NotifyCustomer}
	}
	raw, _ := json.Marshal(req) // cannot fail: plain values
	sum := sha256.Sum256(raw)
	return sum[:]
}
