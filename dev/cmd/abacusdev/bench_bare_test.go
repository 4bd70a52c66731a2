package main

import (
	"math"
	"testing"
)

// A postgres backend that ends between two samples must not subtract its
// whole life from the run, and one that starts must count from zero.
func TestCPUDeltaCountsPostgresByPid(t *testing.T) {
	before := procSample{"gateway": 10, "postgres 100": 5, "postgres 200": 40}
	after := procSample{"gateway": 12, "postgres 100": 7, "postgres 300": 0.5}
	got := cpuDelta(before, after)
	want := cpuSample{"gateway": 2, "postgres": 2.5}
	if len(got) != len(want) {
		t.Fatalf("cpuDelta = %v, want %v", got, want)
	}
	for name, v := range want {
		if math.Abs(got[name]-v) > 1e-9 {
			t.Errorf("cpuDelta[%s] = %v, want %v", name, got[name], v)
		}
	}
}
