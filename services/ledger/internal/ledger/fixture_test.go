package ledger

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// directory is an in-memory CustomerDirectory: the customer service is
// another process, not the ledger's database, which is always real.
type customerRef struct {
	tenantID   string
	customerID int32
}

type directory struct {
	mu    sync.Mutex
	known map[customerRef]bool
	err   error
	calls int
}

func (d *directory) add(tenantID string, ids ...int32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.known == nil {
		d.known = map[customerRef]bool{}
	}
	for _, id := range ids {
		d.known[customerRef{tenantID, id}] = true
	}
}

func (d *directory) CustomerExists(_ context.Context, tenantID string, id int32) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return d.known[customerRef{tenantID, id}], d.err
}

type fixture struct {
	svc  *Service
	pool *pgxpool.Pool
	dir  *directory
	a, b string // tenants
	stop func() // ends Run and waits for it
}

// newFixture returns a service on a fresh database whose customers 1..5
// exist for tenants a and b. With run, the committer and listener run
// until the test ends (or stop).
func newFixture(t *testing.T, cfg Config, run bool) *fixture {
	t.Helper()
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	f := &fixture{pool: pool, dir: &directory{}, a: uuid.NewString(), b: uuid.NewString()}
	f.dir.add(f.a, 1, 2, 3, 4, 5)
	f.dir.add(f.b, 1, 2, 3, 4, 5)
	f.svc = NewService(store.New(pool), f.dir, slog.New(slog.DiscardHandler), cfg)
	f.stop = func() {}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			f.svc.Run(ctx)
			close(done)
		}()
		var once sync.Once
		f.stop = func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(f.stop)
	}
	return f
}

// testCtx bounds a test: the only failure bound of waits on conditions.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitFor waits until cond holds, failing t when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting until %s", what)
		case <-tick.C:
		}
	}
}

func payment(customer int32, currency, amount string) Posting {
	return Posting{CustomerID: customer, Currency: currency, Kind: KindPayment, Amount: amount}
}

// prepare validates a request as Post does, without queueing it.
func (f *fixture) prepare(t *testing.T, tenantID, key string, batch bool, ps ...Posting) *request {
	t.Helper()
	r, err := f.svc.prepare(t.Context(), tenantID, key, batch, ps)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return r
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
