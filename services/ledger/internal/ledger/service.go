package ledger

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
)

// Config tunes the service; zero fields take the defaults.
type Config struct {
	// MaxBatch bounds the postings one group-commit transaction holds.
	MaxBatch int
	// QueueSize bounds the posting requests waiting for the committer;
	// past it, callers wait (or give up with their context).
	QueueSize int
	// TxTimeout bounds one posting transaction.
	TxTimeout time.Duration
	// PollInterval is how often a watcher reads the stream without being
	// notified, a fallback for notifications lost to a reconnect.
	PollInterval time.Duration
	// CurrencyTTL is how long a tenant's currency table is cached.
	CurrencyTTL time.Duration
	// Committers is how many group-commit transactions may be under way at
	// once. Requests are routed by tenant and customer, so one balance's
	// postings always meet in the same committer's groups. One is best on
	// a small machine: a tenant's commits queue on its stream counter
	// anyway, and one committer gathers twice the postings per
	// transaction, so each costs less CPU (measured: 4 postings per
	// transaction with two committers, 8 with one, and 1.5x the
	// throughput, on 2 cores with 16 clients).
	Committers int
	// Join, when set (tracing on), starts the span of a group-commit
	// transaction from its requests' contexts — in the trace of the first
	// traced request, linked to the others' — and returns its end (see
	// tracing.Joiner). It is a function so the domain links no tracing.
	Join func(ctx context.Context, name string, callers []context.Context) (context.Context, func(error))
}

func (c Config) withDefaults() Config {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 512
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.TxTimeout <= 0 {
		c.TxTimeout = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.CurrencyTTL <= 0 {
		c.CurrencyTTL = time.Minute
	}
	if c.Committers <= 0 {
		c.Committers = 1
	}
	return c
}

// Service is the ledger of every tenant. Each method acts for the tenant it
// is given, and only on that tenant's rows.
type Service struct {
	st         *store.Store
	customers  CustomerDirectory
	log        *slog.Logger
	cfg        Config
	currencies *currencyCache
	committer  *committer   // committers[0]
	committers []*committer // each runs its own transactions
	hub        *hub
}

// NewService returns the service; postings wait until Run is running.
func NewService(st *store.Store, customers CustomerDirectory, log *slog.Logger, cfg Config) *Service {
	cfg = cfg.withDefaults()
	s := &Service{st: st, customers: customers, log: log, cfg: cfg, currencies: newCurrencyCache(st, cfg.CurrencyTTL), hub: newHub()}
	for range cfg.Committers {
		s.committers = append(s.committers, newCommitter(st, log, cfg, s.hub.wake))
	}
	s.committer = s.committers[0]
	return s
}

// Run commits postings and feeds watchers until ctx ends. Then it refuses
// new postings, ends every watch, commits the postings already queued and
// returns.
func (s *Service) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, s.hub.shutdown)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { s.listen(ctx) })
	for _, c := range s.committers {
		wg.Go(func() { c.run(ctx) })
	}
	wg.Wait()
}

// Stats returns the committers' counters, summed.
func (s *Service) Stats() Stats {
	var sum Stats
	for _, c := range s.committers {
		st := c.stats()
		sum.Transactions += st.Transactions
		sum.Postings += st.Postings
		sum.Splits += st.Splits
		sum.Retries += st.Retries
	}
	return sum
}

// committerFor routes a request by its tenant and first customer: a hot
// customer's postings all reach one committer, whose groups then hold many
// of them, instead of several transactions queueing on its balance row.
func (s *Service) committerFor(r *request) *committer {
	if len(s.committers) == 1 {
		return s.committer
	}
	h := fnv.New32a()
	h.Write([]byte(r.tenantID))
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(r.postings[0].CustomerID))
	h.Write(b[:])
	return s.committers[h.Sum32()%uint32(len(s.committers))]
}

// Post posts one entry. key "" means no idempotency.
func (s *Service) Post(ctx context.Context, tenantID, key string, p Posting) (Result, error) {
	return s.post(ctx, tenantID, key, false, []Posting{p})
}

// MaxBatchPostings bounds a batch, as the proto does.
const MaxBatchPostings = 1000

// PostBatch posts ps atomically: all of them or none.
func (s *Service) PostBatch(ctx context.Context, tenantID, key string, ps []Posting) (Result, error) {
	if len(ps) == 0 || len(ps) > MaxBatchPostings {
		return Result{}, invalid("postings", "must hold 1 to %d postings", MaxBatchPostings)
	}
	return s.post(ctx, tenantID, key, true, ps)
}

// post validates the request before it joins a group, so that a bad
// posting is refused on its own and never reaches a shared transaction,
// then waits for the committer's answer.
func (s *Service) post(ctx context.Context, tenantID, key string, batch bool, ps []Posting) (Result, error) {
	r, err := s.prepare(ctx, tenantID, key, batch, ps)
	if err != nil {
		return Result{}, err
	}
	if err := s.committerFor(r).submit(ctx, r); err != nil {
		return Result{}, err
	}
	select {
	case o := <-r.done:
		return o.res, o.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// prepare checks a request (key, amounts, kinds, currencies, customers)
// and returns it ready for the committer.
func (s *Service) prepare(ctx context.Context, tenantID, key string, batch bool, ps []Posting) (*request, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	table, err := s.currencies.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	vs := make([]valid, len(ps))
	for i, p := range ps {
		prefix := "posting."
		if batch {
			prefix = fmt.Sprintf("postings[%d].", i)
		}
		if vs[i], err = validate(p, table.byCode, prefix); err != nil {
			return nil, err
		}
	}
	if err := s.checkCustomers(ctx, tenantID, vs); err != nil {
		return nil, err
	}
	return &request{ctx: ctx, tenantID: tenantID, key: key, hash: requestHash(batch, vs), postings: vs, done: make(chan outcome, 1)}, nil
}

// NotFoundError names what was not found; it unwraps to ErrNotFound.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " not found" }

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func (s *Service) checkCustomers(ctx context.Context, tenantID string, vs []valid) error {
	ids := make([]int32, len(vs))
	for i, v := range vs {
		ids[i] = v.CustomerID
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if err := s.checkCustomer(ctx, tenantID, id); err != nil {
			return err
		}
	}
	return nil
}

// checkCustomer asks the customer service (through the cache) whether the
// tenant has customer id.
func (s *Service) checkCustomer(ctx context.Context, tenantID string, id int32) error {
	ok, err := s.customers.CustomerExists(ctx, tenantID, id)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fmt.Errorf("%w: cannot check customer %d with the customer service: %w", ErrUnavailable, id, err)
	case !ok:
		return &NotFoundError{What: fmt.Sprintf("customer %d", id)}
	}
	return nil
}

// EntryFilter selects a customer's entries.
type EntryFilter struct {
	CustomerID int32
	Currency   string // "" for all
	WebsiteID  *int32 // nil for all
}

// ListEntries returns up to limit of a customer's entries, newest first,
// those older than stream position beforeSeq when it is not 0.
func (s *Service) ListEntries(ctx context.Context, tenantID string, f EntryFilter, beforeSeq int64, limit int) ([]Entry, error) {
	rows, err := s.st.ListEntries(ctx, tenantID, store.EntryFilter(f), beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 && beforeSeq == 0 {
		if err := s.checkCustomer(ctx, tenantID, f.CustomerID); err != nil {
			return nil, err
		}
	}
	return entriesOf(rows), nil
}

// Balances returns a customer's balances per currency (summed over
// websites, ordered by currency) and per currency and website. Balances
// without entries are left out; currency "" means all. A customer the
// customer service does not know is NOT_FOUND; it is asked only when there
// are no balances, so reads of active customers cost one query.
func (s *Service) Balances(ctx context.Context, tenantID string, customerID int32, currency string) ([]CurrencyBalance, []Balance, error) {
	rows, err := s.st.Balances(ctx, tenantID, customerID, currency)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		if err := s.checkCustomer(ctx, tenantID, customerID); err != nil {
			return nil, nil, err
		}
	}
	var sums []CurrencyBalance
	balances := make([]Balance, len(rows))
	for i, r := range rows {
		balances[i] = Balance{
			ID: r.BalanceID, CustomerID: r.CustomerID, Currency: r.Currency, Scale: r.Scale,
			WebsiteID: r.WebsiteID, Amount: r.Balance, LastEntryID: r.LastEntryID, UpdateTime: r.UpdateTime,
		}
		if n := len(sums); n > 0 && sums[n-1].Currency == r.Currency {
			sums[n-1].Amount = sums[n-1].Amount.Add(r.Balance)
			continue
		}
		sums = append(sums, CurrencyBalance{Currency: r.Currency, Description: r.Description, Scale: r.Scale, Amount: r.Balance})
	}
	return sums, balances, nil
}

// Currencies returns the tenant's currency table ordered by code, seeding
// it on the tenant's first use.
func (s *Service) Currencies(ctx context.Context, tenantID string) ([]Currency, error) {
	t, err := s.currencies.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(t.list), nil
}
