package projection

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// Concurrent reads of the head share ledger calls, but every read gets a
// head read by a call that started after it asked: an older head could
// miss a posting acknowledged before the read began.
func TestHeadReadsAreSharedButNeverOlderThanTheRead(t *testing.T) {
	t.Parallel()
	var h headReads
	const readers = 64
	var started, asked atomic.Int64
	allAsked := make(chan struct{})
	read := func(context.Context) (int64, error) {
		n := started.Add(1)
		if n == 1 {
			<-allAsked // the first call lasts until every reader has asked
		}
		return n, nil
	}
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			before := started.Load()
			if asked.Add(1) == readers {
				close(allAsked)
			}
			got, err := h.get(t.Context(), "tenant", read)
			if err != nil {
				t.Error(err)
				return
			}
			if got <= before {
				t.Errorf("a read that asked after call %d got the head of call %d", before, got)
			}
		})
	}
	wg.Wait()
	if n := started.Load(); n >= readers {
		t.Errorf("%d ledger calls for %d concurrent reads; want them shared", n, readers)
	}
}
