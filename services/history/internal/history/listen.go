package history

import (
	"context"
	"log/slog"
	"time"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
)

// Listen feeds the hub from the projection's commit notifications, whichever
// replica committed, until ctx ends. It keeps one database session of its
// own and reconnects with backoff; after a reconnection it wakes every
// reader, since notifications sent meanwhile are lost.
func (a *Applied) Listen(ctx context.Context, st *store.Store, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for failures := 0; ctx.Err() == nil; failures++ {
		err := a.listenOnce(ctx, st, func() { backoff, failures = 100*time.Millisecond, 0 })
		if ctx.Err() != nil {
			return
		}
		if failures == 0 {
			log.Warn("applied-entry notifications interrupted; reconnecting", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (a *Applied) listenOnce(ctx context.Context, st *store.Store, listening func()) error {
	sess, err := st.OpenSession(ctx)
	if err != nil {
		return err
	}
	defer sess.Close(context.Background())
	if err := sess.Listen(ctx); err != nil {
		return err
	}
	listening()
	a.NotifyAll()
	for {
		tenantID, err := sess.WaitApplied(ctx)
		if err != nil {
			return err
		}
		a.Notify(tenantID)
	}
}
