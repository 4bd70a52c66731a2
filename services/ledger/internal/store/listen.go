package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Listen holds one connection listening on NotifyChannel until ctx ends or
// the connection fails, and returns why. It calls listening once the LISTEN
// is in place (a reader may have missed notifications before that, so it
// should re-read), then notified with each notification's tenant and the
// stream position its entries reach. The connection is taken out of the pool for good, so that no other
// user of the pool ever receives its notifications.
func (s *Store) Listen(ctx context.Context, listening func(), notified func(tenantID string, upTo int64)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		notified(parsePayload(n.Payload))
	}
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
