package history

import (
	"context"
	"log/slog"

	"github.com/abacus-ledger/abacus/services/history/internal/store"
)

// Listen feeds the hub from the projection's commit notifications, whichever
// replica committed, until ctx ends, reconnecting within about a second
// when the connection fails; each time it is back it wakes every reader,
// since notifications sent meanwhile are lost.
func (a *Applied) Listen(ctx context.Context, st *store.Store, log *slog.Logger) {
	st.ListenApplied(ctx, log, a.NotifyAll, a.Notify)
}
