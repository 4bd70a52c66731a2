package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// fakeLedger is an in-process stand-in for the ledger service's change
// stream (the remote service, not a database): per tenant, entries in stream
// order with chained balances, entry ids not in stream order, and streams
// that break after a random number of messages when failEvery is set.
type fakeLedger struct {
	ledgerv1.UnimplementedLedgerServiceServer

	mu        sync.Mutex
	entries   map[string][]*ledgerv1.Entry
	balances  map[string]*fakeBalance
	nextID    int64
	nextBal   int64
	clock     time.Time
	changed   chan struct{}
	failEvery int
	opened    int            // streams opened
	cutOff    bool           // streams fail at once; other calls work
	continued map[int64]bool // entries the next entry's transaction continues
}

type fakeBalance struct {
	id      int64
	balance decimal.Decimal
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{
		entries: map[string][]*ledgerv1.Entry{}, balances: map[string]*fakeBalance{}, continued: map[int64]bool{},
		nextID: 1, clock: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), changed: make(chan struct{}),
	}
}

// serve starts the fake on an in-memory listener and returns a client that
// sends the service token and the tenant, as the history service's does.
func (l *fakeLedger) serve(t *testing.T) ledgerv1.LedgerServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	ledgerv1.RegisterLedgerServiceServer(srv, l)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
	}, tenancy.DialOptions("token")...)
	conn, err := grpc.NewClient("passthrough:///ledger", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ledgerv1.NewLedgerServiceClient(conn)
}

// post appends an entry for tenant and returns it. Ids leave gaps and now
// and then go backwards, as a sequence does under concurrent transactions
// that commit out of id order.
func (l *fakeLedger) post(tenant string, customer int32, currency string, website int32, delta string) *ledgerv1.Entry {
	return l.postContinued(tenant, customer, currency, website, delta, false)
}

// postContinued is post, marking the entry as continued by the next one's
// transaction when continued is true.
func (l *fakeLedger) postContinued(tenant string, customer int32, currency string, website int32, delta string, continued bool) *ledgerv1.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := fmt.Sprintf("%s/%d/%s/%d", tenant, customer, currency, website)
	b, ok := l.balances[key]
	if !ok {
		l.nextBal++
		b = &fakeBalance{id: l.nextBal}
		l.balances[key] = b
	}
	b.balance = b.balance.Add(decimal.RequireFromString(delta))
	id := l.nextID + 1
	if rand.IntN(4) == 0 {
		id = l.nextID // this one "commits" after the next id
		l.nextID += 3
	} else {
		l.nextID += 2
	}
	l.clock = l.clock.Add(time.Duration(rand.IntN(3000)) * time.Millisecond)
	e := &ledgerv1.Entry{
		EntryId: id, CustomerId: customer, Currency: currency, WebsiteId: website, Kind: "ADJUSTMENT",
		Delta: delta, BalanceAfter: b.balance.String(), BalanceId: b.id, Comment: "posted " + strconv.FormatInt(id, 10),
		NotifyCustomer: id%2 == 0, PostTime: timestamppb.New(l.clock),
	}
	l.entries[tenant] = append(l.entries[tenant], e)
	if continued {
		l.continued[id] = true
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return e
}

// postTx posts n entries as one transaction: the stream marks every one
// but the last as continued. The entries appear one by one, as a stream
// reader may receive them, so a follower can be caught inside one.
func (l *fakeLedger) postTx(tenant string, n int) {
	for i := range n {
		l.postContinued(tenant, 1, "USD", 0, "1.00", i < n-1)
	}
}

// postMany posts n entries over a few balances of a few customers.
func (l *fakeLedger) postMany(tenant string, n int) *ledgerv1.Entry {
	var last *ledgerv1.Entry
	for range n {
		delta := fmt.Sprintf("%d.%02d", rand.IntN(200)-100, rand.IntN(100))
		if delta == "0.00" {
			delta = "1.00"
		}
		last = l.post(tenant, int32(1+rand.IntN(3)), []string{"USD", "EUR"}[rand.IntN(2)], int32(rand.IntN(2)), delta)
	}
	return last
}

func (l *fakeLedger) all(tenant string) []*ledgerv1.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*ledgerv1.Entry(nil), l.entries[tenant]...)
}

func (l *fakeLedger) streamsOpened() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opened
}

// WatchEntries replays the tenant's entries after the cursor ("pos-N": N
// entries delivered), then follows new ones.
func (l *fakeLedger) WatchEntries(req *ledgerv1.WatchEntriesRequest, stream grpc.ServerStreamingServer[ledgerv1.WatchEntriesResponse]) error {
	tenant, pos, err := callOf(stream.Context(), req.GetCursor())
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.cutOff {
		l.mu.Unlock()
		return status.Error(codes.Unavailable, "injected: the stream cannot reach the ledger")
	}
	l.opened++
	budget := -1
	if l.failEvery > 0 {
		budget = 1 + rand.IntN(l.failEvery)
	}
	l.mu.Unlock()
	for {
		l.mu.Lock()
		es, changed, cutOff := l.entries[tenant], l.changed, l.cutOff
		l.mu.Unlock()
		if cutOff {
			return status.Error(codes.Unavailable, "injected: the stream lost the ledger")
		}
		for ; pos < len(es); pos++ {
			if budget == 0 {
				return status.Error(codes.Unavailable, "injected stream failure")
			}
			budget--
			l.mu.Lock()
			continues := l.continued[es[pos].GetEntryId()]
			l.mu.Unlock()
			if err := stream.Send(&ledgerv1.WatchEntriesResponse{Entry: es[pos], Cursor: "pos-" + strconv.Itoa(pos+1), Continues: continues}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
}

// callOf checks the token and returns the tenant and the position of a
// cursor ("pos-N": N entries delivered).
func callOf(ctx context.Context, cursor string) (tenant string, pos int, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	tenants := md.Get(tenancy.TenantKey)
	if len(tenants) != 1 || md.Get("authorization")[0] != "Bearer token" {
		return "", 0, status.Error(codes.Unauthenticated, "missing tenant or token")
	}
	if cursor != "" {
		if pos, err = strconv.Atoi(strings.TrimPrefix(cursor, "pos-")); err != nil {
			return "", 0, status.Error(codes.InvalidArgument, "bad cursor")
		}
	}
	return tenants[0], pos, nil
}

// cut makes streams fail at once (true) or work again (false), as when the
// history cannot reach the ledger that others still post to.
func (l *fakeLedger) cut(off bool) {
	l.mu.Lock()
	l.cutOff = off
	l.mu.Unlock()
}

// GetStreamHead says how many entries follow the cursor.
func (l *fakeLedger) GetStreamHead(ctx context.Context, req *ledgerv1.GetStreamHeadRequest) (*ledgerv1.GetStreamHeadResponse, error) {
	tenant, pos, err := callOf(ctx, req.GetCursor())
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.entries[tenant]
	resp := &ledgerv1.GetStreamHeadResponse{EntriesAfterCursor: int64(max(len(es)-pos, 0))}
	if len(es) > 0 {
		resp.HeadCursor = "pos-" + strconv.Itoa(len(es))
		resp.HeadEntryId = es[len(es)-1].GetEntryId()
	}
	if pos < len(es) {
		resp.FirstAfterCursorTime = es[pos].GetPostTime()
	}
	return resp, nil
}
