package ledger

import (
	"context"
	"sync"
	"time"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
)

// currencyCache keeps each tenant's currency table in memory for a while:
// every posting is validated against it, and it changes (if ever) far less
// often than postings arrive.
type currencyCache struct {
	st  *store.Store
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	byTenant map[string]currencyTable
}

type currencyTable struct {
	list    []Currency
	byCode  map[string]Currency
	expires time.Time
}

// maxCachedTenants bounds the cache's memory; past it the cache starts over.
const maxCachedTenants = 10_000

func newCurrencyCache(st *store.Store, ttl time.Duration) *currencyCache {
	return &currencyCache{st: st, ttl: ttl, now: time.Now, byTenant: map[string]currencyTable{}}
}

// get returns the tenant's table, seeding it on the tenant's first use.
func (c *currencyCache) get(ctx context.Context, tenantID string) (currencyTable, error) {
	c.mu.Lock()
	t, ok := c.byTenant[tenantID]
	c.mu.Unlock()
	if ok && c.now().Before(t.expires) {
		return t, nil
	}
	rows, err := c.st.Currencies(ctx, tenantID)
	if err != nil {
		return currencyTable{}, err
	}
	t = currencyTable{list: make([]Currency, len(rows)), byCode: make(map[string]Currency, len(rows)), expires: c.now().Add(c.ttl)}
	for i, r := range rows {
		t.list[i] = Currency(r)
		t.byCode[r.Code] = t.list[i]
	}
	c.mu.Lock()
	if len(c.byTenant) >= maxCachedTenants {
		clear(c.byTenant)
	}
	c.byTenant[tenantID] = t
	c.mu.Unlock()
	return t, nil
}
