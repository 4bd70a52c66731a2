package grpcapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
)

// loadOp is one idempotency key and what is sent with it.
type loadOp struct {
	key      string
	postings []*ledgerv1.Posting // more than one: a batch
	invalid  bool
	// variant, when set, is another request sent with the same key in
	// place of one of the copies: whichever commits first wins the key.
	variant *ledgerv1.Posting
}

type loadSend struct {
	op      int
	variant bool
}

type loadReply struct {
	loadSend
	code     codes.Code
	entries  []*ledgerv1.Entry
	replayed bool
}

func randomPosting(rng *rand.Rand) *ledgerv1.Posting {
	p := &ledgerv1.Posting{
		CustomerId: int32(1 + rng.IntN(3)), // three hot customers
		Currency:   []string{"USD", "USD", "USD", "EUR"}[rng.IntN(4)],
		WebsiteId:  int32(rng.IntN(2)),
		Amount:     fmt.Sprintf("%d.%02d", 1+rng.IntN(500), rng.IntN(100)),
	}
	switch rng.IntN(4) {
	case 0:
		p.Kind = "PAYMENT"
	case 1:
		p.Kind = "ORDER"
	case 2:
		p.Kind = "ADJUSTMENT"
		if rng.IntN(2) == 0 {
			p.Amount = "-" + p.Amount
		}
	default:
		p.Kind, p.Action = "STORE_CREDIT", int32(1+rng.IntN(5))
		if p.Action <= 2 && rng.IntN(2) == 0 {
			p.Amount = "-" + p.Amount
		}
	}
	return p
}

// makeLoad returns n keys and the requests to send for them, in the order
// to send them. Workers take requests round-robin, so copies of a key that
// are next to each other (a burst) are sent by different workers at once.
func makeLoad(rng *rand.Rand, n int) ([]loadOp, []loadSend) {
	ops := make([]loadOp, n)
	var units [][]loadSend
	for i := range ops {
		op := loadOp{key: fmt.Sprintf("load-%d", i), postings: []*ledgerv1.Posting{randomPosting(rng)}}
		switch r := rng.IntN(100); {
		case r < 4:
			op.invalid, op.postings[0].Currency = true, "XXX" // not in the currency table
		case r < 8:
			op.invalid, op.postings[0].Amount = true, "1.001" // more decimals than USD/EUR allow
		case r < 12:
			op.invalid, op.postings[0].CustomerId = true, 999 // no such customer
		case r < 22:
			for range 1 + rng.IntN(3) {
				op.postings = append(op.postings, randomPosting(rng))
			}
		case r < 27:
			op.variant = proto.Clone(op.postings[0]).(*ledgerv1.Posting)
			op.variant.Comment = "variant"
		}
		ops[i] = op
		var copies []loadSend
		for c := range 2 + rng.IntN(2) {
			copies = append(copies, loadSend{op: i, variant: op.variant != nil && c == 0})
		}
		if rng.IntN(5) == 0 {
			units = append(units, copies) // a burst
			continue
		}
		for _, c := range copies {
			units = append(units, []loadSend{c})
		}
	}
	rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
	var sends []loadSend
	for _, u := range units {
		sends = append(sends, u...)
	}
	return ops, sends
}

func (f *fixture) send(ctx context.Context, op loadOp, variant bool) (loadReply, error) {
	var r loadReply
	var err error
	switch {
	case variant:
		var res *ledgerv1.PostEntryResponse
		res, err = f.client.PostEntry(ctx, &ledgerv1.PostEntryRequest{Posting: op.variant, IdempotencyKey: op.key})
		r.entries, r.replayed = []*ledgerv1.Entry{res.GetEntry()}, res.GetReplayed()
	case len(op.postings) == 1:
		var res *ledgerv1.PostEntryResponse
		res, err = f.client.PostEntry(withKey(ctx, op.key), &ledgerv1.PostEntryRequest{Posting: op.postings[0]})
		r.entries, r.replayed = []*ledgerv1.Entry{res.GetEntry()}, res.GetReplayed()
	default:
		var res *ledgerv1.BatchPostEntriesResponse
		res, err = f.client.BatchPostEntries(ctx, &ledgerv1.BatchPostEntriesRequest{Postings: op.postings, IdempotencyKey: op.key})
		r.entries, r.replayed = res.GetEntries(), res.GetReplayed()
	}
	r.code = status.Code(err)
	switch r.code {
	case codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists:
		return r, nil
	}
	return r, err
}

// Thousands of concurrent postings at three hot customers, each key sent
// two or three times (often concurrently), some invalid, some keys reused
// with a different request; a reader follows the stream all along. Then
// the database and the reader must agree with every answer given.
func TestConcurrentLoad(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(f.a, 5*time.Minute)
	defer cancel()
	const keys, workers = 1600, 64
	ops, sends := makeLoad(rand.New(rand.NewPCG(4, 2)), keys)

	readerCtx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	var readMu sync.Mutex
	var read []*ledgerv1.WatchEntriesResponse
	readerDone := make(chan error, 1)
	go func() {
		stream, err := f.client.WatchEntries(readerCtx, &ledgerv1.WatchEntriesRequest{})
		if err != nil {
			readerDone <- err
			return
		}
		for {
			r, err := stream.Recv()
			if err != nil {
				readerDone <- err
				return
			}
			readMu.Lock()
			read = append(read, r)
			readMu.Unlock()
		}
	}()

	replies := make([][]loadReply, workers)
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < len(sends); i += workers {
				r, err := f.send(gctx, ops[sends[i].op], sends[i].variant)
				if err != nil {
					return fmt.Errorf("key %s: %w", ops[sends[i].op].key, err)
				}
				r.loadSend = sends[i]
				replies[w] = append(replies[w], r)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	byOp := make([][]loadReply, len(ops))
	for _, rs := range replies {
		for _, r := range rs {
			byOp[r.op] = append(byOp[r.op], r)
		}
	}
	t.Logf("%d requests for %d keys; committer %+v", len(sends), keys, f.svc.Stats())

	var wantEntries int64
	for i, op := range ops {
		n, ok := checkKeyReplies(t, f, op, byOp[i])
		if !ok {
			t.FailNow()
		}
		wantEntries += n
	}
	if n := count(t, f.pool, `SELECT count(*) FROM ledger.entries WHERE tenant_id = $1`, f.tenantA); n != wantEntries {
		t.Errorf("%d entries in the database, %d acknowledged", n, wantEntries)
	}
	checkLedgerInvariants(t, f)

	// The reader saw every entry exactly once, in stream order, and each
	// balance's entries as a chain.
	waitUntil(t, ctx, fmt.Sprintf("the reader has seen %d entries", wantEntries), func() bool {
		readMu.Lock()
		defer readMu.Unlock()
		return int64(len(read)) >= wantEntries
	})
	stopReader()
	if err := <-readerDone; status.Code(err) != codes.Canceled {
		t.Errorf("reader ended with %v", err)
	}
	if int64(len(read)) != wantEntries {
		t.Fatalf("reader saw %d entries, want %d", len(read), wantEntries)
	}
	seen := map[int64]bool{}
	chain := map[int64]decimal.Decimal{}
	for i, r := range read {
		e := r.GetEntry()
		if r.GetCursor() != fmt.Sprint("s1.", i+1) {
			t.Fatalf("entry %d has cursor %s", i, r.GetCursor())
		}
		if seen[e.GetEntryId()] {
			t.Fatalf("entry %d seen twice", e.GetEntryId())
		}
		seen[e.GetEntryId()] = true
		after := chain[e.GetBalanceId()].Add(decimal.RequireFromString(e.GetDelta()))
		if !after.Equal(decimal.RequireFromString(e.GetBalanceAfter())) {
			t.Fatalf("entry %d: balance after %s, want %s", e.GetEntryId(), e.GetBalanceAfter(), after)
		}
		chain[e.GetBalanceId()] = after
	}
}

// checkKeyReplies checks the answers given for one key against each other
// and the database, and returns how many entries the key wrote.
func checkKeyReplies(t *testing.T, f *fixture, op loadOp, replies []loadReply) (int64, bool) {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("key %s: "+format, append([]any{op.key}, args...)...)
		ok = false
	}
	stored := count(t, f.pool, `SELECT count(*) FROM ledger.entries WHERE tenant_id = $1 AND idempotency_key = $2`, f.tenantA, op.key)
	if op.invalid {
		for _, r := range replies {
			if r.code != codes.InvalidArgument && r.code != codes.NotFound {
				fail("invalid request answered %s", r.code)
			}
		}
		if stored != 0 || count(t, f.pool, `SELECT count(*) FROM ledger.idempotency_keys WHERE tenant_id = $1 AND key = $2`, f.tenantA, op.key) != 0 {
			fail("an invalid request wrote %d entries or its key", stored)
		}
		return 0, ok
	}
	var winner *loadReply
	fresh := 0
	for i, r := range replies {
		switch r.code {
		case codes.OK:
			if !r.replayed {
				fresh++
			}
			if winner == nil {
				winner = &replies[i]
			} else if winner.variant != r.variant {
				fail("both requests of the key were acknowledged")
			} else if diff := cmp.Diff(winner.entries, r.entries, protocmp.Transform()); diff != "" {
				fail("two answers differ (-first +other):\n%s", diff)
			}
		case codes.AlreadyExists:
			if op.variant == nil {
				fail("ALREADY_EXISTS for identical requests")
			}
		default:
			fail("answered %s", r.code)
		}
	}
	if winner == nil || fresh != 1 {
		fail("%d fresh answers among %d (want exactly one)", fresh, len(replies))
		return 0, false
	}
	for _, r := range replies {
		if r.code == codes.AlreadyExists && r.variant == winner.variant {
			fail("the winning request was also refused")
		}
	}
	sent := op.postings
	if winner.variant {
		sent = []*ledgerv1.Posting{op.variant}
	}
	if stored != int64(len(sent)) || len(winner.entries) != len(sent) {
		fail("wrote %d entries, answered %d, sent %d", stored, len(winner.entries), len(sent))
		return 0, false
	}
	for i, e := range winner.entries {
		var delta, after, comment string
		var customer int32
		err := f.pool.QueryRow(context.Background(), `SELECT delta::text, balance_after::text, customer_id, comment FROM ledger.entries
			WHERE tenant_id = $1 AND entry_id = $2 AND idempotency_key = $3`, f.tenantA, e.GetEntryId(), op.key).Scan(&delta, &after, &customer, &comment)
		if err != nil {
			fail("acknowledged entry %d: %v", e.GetEntryId(), err)
			continue
		}
		p := sent[i]
		amount, _, _ := ledger.ParseAmount(p.GetAmount())
		want, _ := ledger.Delta(ledger.Kind(p.GetKind()), p.GetAction(), amount)
		if delta != e.GetDelta() || after != e.GetBalanceAfter() || customer != p.GetCustomerId() || comment != p.GetComment() ||
			ledger.FormatAmount(want, 2) != delta {
			fail("entry %d: stored delta %s after %s customer %d, answered %s %s, sent %v",
				e.GetEntryId(), delta, after, customer, e.GetDelta(), e.GetBalanceAfter(), p)
		}
	}
	return stored, ok
}

// checkLedgerInvariants checks, in the database, every balance against
// its entries and every entry against the one before it on its balance.
func checkLedgerInvariants(t *testing.T, f *fixture) {
	t.Helper()
	for what, sql := range map[string]string{
		"balances that differ from the sum of their entries": `
			SELECT count(*) FROM ledger.balances b
			WHERE b.balance <> (SELECT coalesce(sum(delta), 0) FROM ledger.entries e
				WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id)`,
		"entries that break their balance's chain": `
			SELECT count(*) FROM (
				SELECT balance_after, delta,
					coalesce(lag(balance_after) OVER (PARTITION BY tenant_id, balance_id ORDER BY stream_seq), 0) AS before
				FROM ledger.entries) c
			WHERE balance_after <> before + delta`,
		"keys with entries of two requests": `
			SELECT count(*) FROM ledger.idempotency_keys k
			WHERE cardinality(k.entry_ids) <> (SELECT count(*) FROM ledger.entries e
				WHERE e.tenant_id = k.tenant_id AND e.idempotency_key = k.key AND e.entry_id = ANY(k.entry_ids))
			   OR cardinality(k.entry_ids) <> (SELECT count(*) FROM ledger.entries e
				WHERE e.tenant_id = k.tenant_id AND e.idempotency_key = k.key)`,
		"gaps or repeats in stream positions": `
			SELECT coalesce(sum(n), 0) FROM (SELECT count(*) - max(stream_seq) AS n FROM ledger.entries GROUP BY tenant_id) s`,
	} {
		if n := count(t, f.pool, sql); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

// waitUntil waits until cond holds, failing t when ctx ends first.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
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
