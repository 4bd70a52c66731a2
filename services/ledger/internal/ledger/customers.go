package ledger

import (
	"context"
	"sync"
	"time"
)

// CustomerDirectory tells whether a tenant has a customer. The customer
// service owns customers; the ledger only asks.
type CustomerDirectory interface {
	CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error)
}

// CachedDirectory remembers customers that exist, per tenant, for a while.
// Only positive answers are kept (a customer created a moment ago is found
// at once), and the key holds the tenant, so one tenant's answer can never
// admit a posting for another tenant's customer of the same id. Customers
// are never deleted, so a stale positive answer cannot admit a posting the
// customer service would refuse.
type CachedDirectory struct {
	inner   CustomerDirectory
	ttl     time.Duration
	maxSize int
	now     func() time.Time

	mu    sync.Mutex
	known map[customerRef]time.Time // expiry
}

type customerRef struct {
	tenantID   string
	customerID int32
}

// NewCachedDirectory wraps inner with a cache of at most maxSize customers,
// each kept for ttl.
func NewCachedDirectory(inner CustomerDirectory, ttl time.Duration, maxSize int) *CachedDirectory {
	return &CachedDirectory{inner: inner, ttl: ttl, maxSize: max(maxSize, 1), now: time.Now, known: map[customerRef]time.Time{}}
}

// CustomerExists implements CustomerDirectory.
func (c *CachedDirectory) CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error) {
	ref := customerRef{tenantID, customerID}
	c.mu.Lock()
	exp, ok := c.known[ref]
	c.mu.Unlock()
	if ok && c.now().Before(exp) {
		return true, nil
	}
	exists, err := c.inner.CustomerExists(ctx, tenantID, customerID)
	if err != nil || !exists {
		return exists, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.known) >= c.maxSize {
		for r, exp := range c.known {
			if !now.Before(exp) {
				delete(c.known, r)
			}
		}
		// Still full of live entries: drop arbitrary ones (map order is
		// random) down to 90%, so that the next inserts do not each scan.
		for r := range c.known {
			if len(c.known) <= c.maxSize*9/10 {
				break
			}
			delete(c.known, r)
		}
	}
	c.known[ref] = now.Add(c.ttl)
	return true, nil
}

// size returns how many customers are cached.
func (c *CachedDirectory) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.known)
}
