package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Listen holds one connection listening on NotifyChannel until ctx ends or
// the connection fails, and returns why. It calls listening once the LISTEN
// is in place (a reader may have missed notifications before that, so it
// should re-read), then notified with each notification's payload (a tenant
// id). The connection is taken out of the pool for good, so that no other
// user of the pool ever receives its notifications.
func (s *Store) Listen(ctx context.Context, listening func(), notified func(tenantID string)) error {
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
		notified(n.Payload)
	}
}
