package history

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Applied wakes reads that wait for an entry when a projection transaction
// of their tenant commits. It is fed by the notifications the projection
// sends on commit (from any replica), so a waiting read re-checks once per
// commit of its tenant and never polls.
type Applied struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// NewApplied returns an empty hub.
func NewApplied() *Applied { return &Applied{waiting: map[string]chan struct{}{}} }

// Changed returns a channel closed at the next commit of the tenant. Take it
// before checking, so a commit between the check and the wait is not missed.
func (a *Applied) Changed(tenantID string) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch, ok := a.waiting[tenantID]
	if !ok {
		ch = make(chan struct{})
		a.waiting[tenantID] = ch
	}
	return ch
}

// Notify wakes the readers of the tenant.
func (a *Applied) Notify(tenantID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.waiting[tenantID]; ok {
		close(ch)
		delete(a.waiting, tenantID)
	}
}

// NotifyAll wakes every reader, for when notifications may have been lost
// (the listening session reconnected).
func (a *Applied) NotifyAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, ch := range a.waiting {
		close(ch)
		delete(a.waiting, id)
	}
}

// await returns once the entries c asks for have been applied — the
// ledger's head as of now unless c.AllowStale, and c.MinEntryID when set —
// or ErrNotApplied when they are not within the wait.
//
// The projection applies the stream in order and whole transactions at a
// time, so once the head's entry is in, so is every entry committed before
// the head was read: every posting acknowledged before this read began.
func (s *Service) await(ctx context.Context, tenantID string, c Consistency) error {
	if c.MinEntryID < 0 {
		return invalid("consistency.min_entry_id", "must be >= 0")
	}
	wait := DefaultWait
	if c.MaxWait != nil {
		wait = *c.MaxWait
	}
	if wait < 0 || wait > MaxWaitLimit {
		return invalid("consistency.max_wait", "must be between 0s and %s", MaxWaitLimit)
	}
	var ids []int64
	if c.MinEntryID > 0 {
		ids = append(ids, c.MinEntryID)
	}
	if !c.AllowStale && s.lag != nil {
		head, err := s.lag.HeadEntryID(ctx, tenantID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: read the stream head: %v", ErrLedgerUnavailable, err)
		}
		if head > 0 && head != c.MinEntryID {
			ids = append(ids, head)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Give up a little before the caller's deadline, so that it hears why.
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)*9/10)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for first := true; ; first = false {
		changed := s.applied.Changed(tenantID)
		for len(ids) > 0 {
			ok, err := s.store.HasEntry(ctx, tenantID, ids[0])
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			ids = ids[1:]
		}
		if len(ids) == 0 {
			return nil
		}
		if first && s.lag != nil {
			s.lag.Follow(tenantID)
		}
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("entry %d not applied within %s: %w", ids[0], wait, ErrNotApplied)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
