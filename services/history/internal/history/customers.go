package history

import (
	"context"
	"sync"
	"time"
)

// CachedCustomers remembers, per tenant, customers that exist, for ttl.
// Customers are never deleted, so a positive answer stays true; negative
// answers are never cached, so a customer created a moment ago is found at
// once.
type CachedCustomers struct {
	inner CustomerDirectory
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	known map[customerKey]time.Time
}

type customerKey struct {
	tenantID   string
	customerID int32
}

// maxCachedCustomers bounds the cache's memory against a flood of ids.
const maxCachedCustomers = 100_000

// NewCachedCustomers wraps inner.
func NewCachedCustomers(inner CustomerDirectory, ttl time.Duration) *CachedCustomers {
	return &CachedCustomers{inner: inner, ttl: ttl, now: time.Now, known: map[customerKey]time.Time{}}
}

// CustomerExists implements CustomerDirectory.
func (c *CachedCustomers) CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error) {
	k := customerKey{tenantID, customerID}
	c.mu.Lock()
	exp, ok := c.known[k]
	c.mu.Unlock()
	if ok && c.now().Before(exp) {
		return true, nil
	}
	exists, err := c.inner.CustomerExists(ctx, tenantID, customerID)
	if err != nil || !exists {
		return exists, err
	}
	c.mu.Lock()
	if len(c.known) >= maxCachedCustomers {
		clear(c.known)
	}
	c.known[k] = c.now().Add(c.ttl)
	c.mu.Unlock()
	return true, nil
}
