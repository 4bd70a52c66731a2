package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseChaosFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		duration time.Duration
		kills    int
		interval time.Duration
	}{
		{nil, time.Minute, 6, time.Minute / 7},
		{[]string{"-short"}, 20 * time.Second, 2, 20 * time.Second / 3},
		{[]string{"-short", "-kills", "4"}, 20 * time.Second, 4, 4 * time.Second},
		{[]string{"-duration", "30s", "-kills", "2", "-interval", "5s"}, 30 * time.Second, 2, 5 * time.Second},
	} {
		o, err := parseChaosFlags(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.duration != tc.duration || o.kills != tc.kills || o.interval != tc.interval {
			t.Errorf("%v: duration %s, kills %d, interval %s; want %s, %d, %s", tc.args, o.duration, o.kills, o.interval, tc.duration, tc.kills, tc.interval)
		}
	}
	if _, err := parseChaosFlags([]string{"-clients", "0"}); err == nil {
		t.Error("-clients 0 accepted")
	}
}

// The requests a client sends: a single posting's body leaves the customer
// to the path, a batch names it per posting; the delta the checks expect
// follows the kind's sign, and every posting's comment is unique.
func TestChaosRequests(t *testing.T) {
	c := &chaosRun{o: chaosOptions{batchShare: 0.5}, runID: "r", targets: customerBenchTargets{{id: 7}, {id: 9}}}
	rng := rand.New(rand.NewPCG(1, 2))
	comments := map[string]bool{}
	var singles, batches int
	for i := range 200 {
		r := c.newRequest(rng, 3, i)
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(r.postings) == 1 {
			singles++
			if _, ok := body["customer_id"]; ok || !strings.HasSuffix(r.path, "/entries") {
				t.Fatalf("single posting %s %s", r.path, r.body)
			}
		} else {
			batches++
			if ps, _ := body["postings"].([]any); r.path != "/v1/entries:batchPost" || len(ps) != len(r.postings) {
				t.Fatalf("batch %s %s", r.path, r.body)
			}
		}
		for _, p := range r.postings {
			if comments[p.Comment] {
				t.Fatalf("comment %q twice", p.Comment)
			}
			comments[p.Comment] = true
			neg := strings.HasPrefix(p.delta, "-")
			if (p.Kind == "PAYMENT" && neg) || (p.Kind == "ORDER" && !neg) || (p.Kind == "ADJUSTMENT" && p.delta != p.Amount) {
				t.Errorf("%s %s: delta %s", p.Kind, p.Amount, p.delta)
			}
		}
	}
	if singles == 0 || batches == 0 {
		t.Errorf("%d singles, %d batches; want both", singles, batches)
	}
}
