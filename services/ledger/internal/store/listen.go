package store

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/abacus-ledger/abacus/services/platform/pglisten"
)

// Listen keeps a LISTEN on NotifyChannel until ctx ends, reconnecting
// within about a second when it fails (pglisten.Run). It calls listening
// each time the LISTEN is in place (a reader may have missed notifications
// before that, so it should re-read), lost when it fails, and notified with
// each notification's tenant and the stream position its entries reach.
func (s *Store) Listen(ctx context.Context, log *slog.Logger, listening, lost func(), notified func(tenantID string, upTo int64)) {
	pglisten.Run(ctx, s.pool, NotifyChannel, "change-stream listener (watchers poll until it is back)", log, pglisten.Handler{
		Listening: listening,
		Lost:      lost,
		Notified:  func(payload string) { notified(parsePayload(payload)) },
	})
}

// parsePayload splits a notification's "tenant:position" payload; a
// payload without a position (or a bad one) gives math.MaxInt64, which
// makes every reader read.
func parsePayload(payload string) (tenantID string, upTo int64) {
	tenantID, pos, ok := strings.Cut(payload, ":")
	if !ok {
		return payload, math.MaxInt64
	}
	upTo, err := strconv.ParseInt(pos, 10, 64)
	if err != nil {
		return tenantID, math.MaxInt64
	}
	return tenantID, upTo
}
