// Package pglisten keeps a PostgreSQL LISTEN open for a process: one
// connection of its own, taken out of the pool for good (so that no other
// user of the pool ever receives its notifications), reconnected with
// backoff whenever it fails, until the process stops.
package pglisten

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Backoff bounds the wait between reconnections: it doubles from
// MinBackoff to MaxBackoff, about a second, so that notifications flow
// again within about a second of the database's return, however long it
// was away.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = time.Second
)

// Handler receives what one listener hears.
type Handler struct {
	// Listening is called each time the LISTEN is in place, first and after
	// every reconnection: notifications sent while it was not were lost, so
	// whoever depends on them should look again.
	Listening func()
	// Notified is called with each notification's payload.
	Notified func(payload string)
	// Lost, when set, is called when the connection fails, before the wait.
	Lost func()
}

// Run listens on channel until ctx ends. It logs the first failure of a
// run of failures as a warning (what names the listener), the rest at
// debug level.
func Run(ctx context.Context, pool *pgxpool.Pool, channel, what string, log *slog.Logger, h Handler) {
	backoff := Wait{Min: MinBackoff, Max: MaxBackoff}
	for failures := 0; ctx.Err() == nil; {
		connected := false
		err := listenOnce(ctx, pool, channel, func() {
			connected = true
			h.Listening()
		}, h.Notified)
		if h.Lost != nil {
			h.Lost()
		}
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff.Reset()
			failures = 0
		}
		failures++
		wait := backoff.Next()
		if failures == 1 {
			log.WarnContext(ctx, what+" lost; reconnecting", "error", err.Error(), "retry_in", wait.String())
		} else {
			log.DebugContext(ctx, what+" still failing", "error", err.Error(), "failures", failures)
		}
		if !Sleep(ctx, wait) {
			return
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, channel string, listening func(), notified func(string)) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
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

// Wait is a backoff between attempts: each wait is a random time between
// half and all of a step that doubles from Min to Max.
type Wait struct {
	Min, Max time.Duration
	step     time.Duration
}

// Next returns the next wait and doubles the step.
func (w *Wait) Next() time.Duration {
	if w.step < w.Min {
		w.step = w.Min
	}
	d := w.step/2 + rand.N(w.step/2+1)
	w.step = min(2*w.step, max(w.Max, w.Min))
	return d
}

// Reset starts again from Min, after an attempt that made progress.
func (w *Wait) Reset() { w.step = w.Min }

// Sleep waits d, or less when ctx ends; it reports whether ctx is still
// alive.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
