package grpcapi

import (
	"regexp"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
)

func postingFromProto(p *ledgerv1.Posting) ledger.Posting {
	return ledger.Posting{
		CustomerID: p.GetCustomerId(), Currency: p.GetCurrency(), WebsiteID: p.GetWebsiteId(),
		Kind: ledger.Kind(p.GetKind()), Action: p.GetAction(), Amount: p.GetAmount(),
		Comment: p.GetComment(), NotifyCustomer: p.GetNotifyCustomer(),
	}
}

func entryToProto(e ledger.Entry) *ledgerv1.Entry {
	return &ledgerv1.Entry{
		EntryId:        e.ID,
		CustomerId:     e.CustomerID,
		Currency:       e.Currency,
		WebsiteId:      e.WebsiteID,
		Kind:           string(e.Kind),
		Action:         e.Action,
		Delta:          ledger.FormatAmount(e.Delta, e.Scale),
		BalanceAfter:   ledger.FormatAmount(e.BalanceAfter, e.Scale),
		BalanceId:      e.BalanceID,
		IdempotencyKey: e.IdempotencyKey,
		Comment:        e.Comment,
		NotifyCustomer: e.NotifyCustomer,
		PostTime:       timestamppb.New(e.PostTime),
	}
}

func balanceToProto(b ledger.Balance) *ledgerv1.Balance {
	return &ledgerv1.Balance{
		BalanceId:   b.ID,
		CustomerId:  b.CustomerID,
		Currency:    b.Currency,
		WebsiteId:   b.WebsiteID,
		Balance:     ledger.FormatAmount(b.Amount, b.Scale),
		LastEntryId: b.LastEntryID,
		UpdateTime:  timestamppb.New(b.UpdateTime),
	}
}

func entriesToProto(es []ledger.Entry) []*ledgerv1.Entry {
	out := make([]*ledgerv1.Entry, len(es))
	for i, e := range es {
		out[i] = entryToProto(e)
	}
	return out
}

func balancesToProto(bs []ledger.Balance) []*ledgerv1.Balance {
	out := make([]*ledgerv1.Balance, len(bs))
	for i, b := range bs {
		out[i] = balanceToProto(b)
	}
	return out
}

// A stream cursor is "s1." and the decimal stream position of the last
// entry delivered; the prefix versions the format.
const cursorPrefix = "s1."

var cursorPattern = regexp.MustCompile(`^s1\.(0|[1-9][0-9]{0,17})$`)

func encodeCursor(seq int64) string { return cursorPrefix + strconv.FormatInt(seq, 10) }

// decodeCursor returns the stream position after which to resume; "" is
// the start of the stream.
func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	m := cursorPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, &ledger.FieldError{Field: "cursor", Rule: "is malformed; send back a cursor the stream gave, or none to start at the beginning"}
	}
	seq, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, &ledger.FieldError{Field: "cursor", Rule: "is malformed"}
	}
	return seq, nil
}
