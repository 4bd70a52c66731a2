// Package customerclient is the customer service's client side, for the
// other services: whether a tenant has a customer (through a cache of the
// customers known to exist), whether a tenant exists, and which tenants
// exist. The customer service owns customers and tenants; the others only
// ask, over a connection made with rpcclient.Dial.
package customerclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Directory tells whether a tenant has a customer.
type Directory interface {
	CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error)
}

// Remote is a Directory over the customer service.
type Remote struct {
	client customerv1.CustomerServiceClient
}

// NewRemote returns a directory over conn, a connection made with
// rpcclient.Dial (which sends the service token).
func NewRemote(conn grpc.ClientConnInterface) *Remote {
	return &Remote{client: customerv1.NewCustomerServiceClient(conn)}
}

// CustomerExists asks for the customer as tenantID: the tenant of the call
// is set here from the argument, whatever ctx carries, so the answer is
// always about that tenant's customer.
func (r *Remote) CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error) {
	// The connection's read deadline bounds the call (rpcclient).
	_, err := r.client.GetCustomer(tenancy.WithTenant(ctx, tenantID), &customerv1.GetCustomerRequest{CustomerId: customerID})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound:
		return false, nil
	}
	return false, fmt.Errorf("get customer %d: %w", customerID, err)
}

// Cached remembers customers that exist, per tenant, for a while. Only
// positive answers are kept (a customer created a moment ago is found at
// once), and the key holds the tenant, so one tenant's answer can never
// admit a request for another tenant's customer of the same id. Customers
// are never deleted, so a stale positive answer cannot admit one the
// customer service would refuse.
type Cached struct {
	inner   Directory
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

// NewCached wraps inner with a cache of at most maxSize customers, each
// kept for ttl.
func NewCached(inner Directory, ttl time.Duration, maxSize int) *Cached {
	return &Cached{inner: inner, ttl: ttl, maxSize: max(maxSize, 1), now: time.Now, known: map[customerRef]time.Time{}}
}

// CustomerExists implements Directory.
func (c *Cached) CustomerExists(ctx context.Context, tenantID string, customerID int32) (bool, error) {
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
func (c *Cached) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.known)
}
