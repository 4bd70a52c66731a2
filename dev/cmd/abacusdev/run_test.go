package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// A second run on the same data directory is refused with the first one's
// pid while the first holds it, and allowed once it has let go.
func TestLockDataRefusesASecondRun(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	unlock, err := lockData(data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockData(data)
	if err == nil || !strings.Contains(err.Error(), "another make run is using") || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v; want a refusal naming pid %d", err, os.Getpid())
	}
	unlock()
	unlock2, err := lockData(data)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
