package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
)

// A page token is the last row of a page, (updated_at, history_id), behind
// a fingerprint of the tenant and the query it belongs to:
//
//	version (1) | fingerprint (8) | updated_at, Unix microseconds (8) | history_id (8)
//
// in unpadded base64url. The fingerprint is not a secret: a token only names
// a position, and every query is scoped to the caller's tenant anyway. It
// makes a token of another query or tenant an error instead of a page of
// something else.
const (
	tokenVersion = 1
	tokenLen     = 1 + 8 + 8 + 8
)

func fingerprint(tenantID string, f Filter) [8]byte {
	var b bytes.Buffer
	field := func(s string) { b.WriteString(strconv.Itoa(len(s))); b.WriteByte(':'); b.WriteString(s) }
	field(tenantID)
	field(strconv.Itoa(int(f.CustomerID)))
	field(f.Currency)
	if f.WebsiteID != nil {
		field(strconv.Itoa(int(*f.WebsiteID)))
	} else {
		field("*")
	}
	for _, t := range []*time.Time{f.Start, f.End} {
		if t != nil {
			field(strconv.FormatInt(t.UnixMicro(), 10))
		} else {
			field("-")
		}
	}
	sum := sha256.Sum256(b.Bytes())
	return [8]byte(sum[:8])
}

func encodeToken(fp [8]byte, p store.Position) string {
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenVersion)
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(p.UpdatedAt.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(p.HistoryID))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken returns the position a token names; a malformed token, or one
// of another query or tenant, is a FieldError on page_token.
func decodeToken(token string, fp [8]byte) (store.Position, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion {
		return store.Position{}, invalid("page_token", "malformed")
	}
	if !bytes.Equal(b[1:9], fp[:]) {
		return store.Position{}, invalid("page_token", "belongs to another query or tenant")
	}
	return store.Position{
		UpdatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[9:17]))).UTC(),
		HistoryID: int64(binary.BigEndian.Uint64(b[17:25])),
	}, nil
}
