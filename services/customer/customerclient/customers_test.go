package customerclient

import (
	"context"
	"errors"
	"testing"
	"time"
)

// directory answers from a set and counts the questions.
type directory struct {
	known map[customerRef]bool
	err   error
	calls int
}

func (d *directory) CustomerExists(_ context.Context, tenantID string, id int32) (bool, error) {
	d.calls++
	return d.known[customerRef{tenantID, id}], d.err
}

func TestCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inner := &directory{known: map[customerRef]bool{{"t1", 1}: true, {"t1", 2}: true, {"t1", 3}: true}}
	c := NewCached(inner, time.Minute, 2)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	exists := func(tenant string, id int32) bool {
		t.Helper()
		ok, err := c.CustomerExists(ctx, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for range 3 {
		if !exists("t1", 1) {
			t.Fatal("t1/1 unknown")
		}
	}
	if inner.calls != 1 {
		t.Errorf("a known customer was asked %d times, want 1 (cached)", inner.calls)
	}
	// The same id under another tenant is another customer: never answered
	// from t1's entry.
	first, second := exists("t2", 1), exists("t2", 1) // asked twice: a negative is never cached
	if first || second {
		t.Fatal("t2/1 known through t1's cache entry")
	}
	if inner.calls != 3 {
		t.Errorf("calls = %d, want 3: negative answers are not cached", inner.calls)
	}
	exists("t1", 2)
	exists("t1", 3) // over the bound of 2
	if n := c.size(); n > 2 {
		t.Errorf("cache holds %d, bound is 2", n)
	}
	now = now.Add(2 * time.Minute)
	calls := inner.calls
	exists("t1", 3)
	if inner.calls != calls+1 {
		t.Error("an expired entry was used")
	}
	inner.err = errors.New("down")
	now = now.Add(2 * time.Minute)
	if _, err := c.CustomerExists(ctx, "t1", 1); err == nil {
		t.Error("an error of the customer service was swallowed")
	}
}
