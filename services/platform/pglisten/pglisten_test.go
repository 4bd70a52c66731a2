package pglisten

import (
	"testing"
	"time"
)

// Waits double from Min, never pass Max however many failures, and start
// again from Min after a reset: a reconnection follows an outage of any
// length within about Max.
func TestWaitIsBounded(t *testing.T) {
	t.Parallel()
	w := Wait{Min: 100 * time.Millisecond, Max: time.Second}
	var longest time.Duration
	for i := range 1000 {
		d := w.Next()
		if d > time.Second || d < 50*time.Millisecond {
			t.Fatalf("wait %d = %v; want within [50ms, 1s]", i, d)
		}
		longest = max(longest, d)
	}
	if longest < 500*time.Millisecond {
		t.Errorf("longest wait %v; the step never grew", longest)
	}
	w.Reset()
	if d := w.Next(); d > 100*time.Millisecond {
		t.Errorf("first wait after a reset = %v; want at most Min", d)
	}
}
