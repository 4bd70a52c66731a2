package auth

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// clockCache is a cache of two entries on a clock the test moves.
func clockCache(t *testing.T) (*Cache, *time.Time) {
	t.Helper()
	c, err := NewCache(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }
	return c, &now
}

func manexReq(key string) *customerv1.AuthenticateRequest {
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Manex{Manex: &customerv1.ManexCredential{ApiKey: key}}}
}

func answer(credentialID string) *customerv1.AuthenticateResponse {
	return &customerv1.AuthenticateResponse{TenantId: "t-" + credentialID, CredentialId: credentialID, CacheFor: durationpb.New(time.Minute)}
}

// fetch looks req up and, on a miss, stores resp as a call would.
func fetch(c *Cache, req *customerv1.AuthenticateRequest, resp *customerv1.AuthenticateResponse) (hit bool) {
	k, _ := keyOf(req)
	_, hit, st := c.lookup(k)
	if !hit && resp != nil {
		c.store(st, k, resp)
	}
	return hit
}

// The cache answers only while its stream is synced and the last confirmed
// ack is younger than its trust; losing the stream empties it.
func TestCacheTrust(t *testing.T) {
	t.Parallel()
	c, now := clockCache(t)
	req := manexReq("KEY0000001")
	for range 2 { // the first would fill a trusted cache, the second hit it
		if fetch(c, req, answer("c1")) {
			t.Fatal("hit before the stream synced")
		}
	}
	c.sync(10)
	sent := *now
	c.confirm(sent, 10, time.Second)
	if fetch(c, req, answer("c1")) || !fetch(c, req, answer("c1")) {
		t.Fatal("want a miss that fills the cache, then a hit")
	}
	*now = sent.Add(time.Second)
	if fetch(c, req, answer("c1")) {
		t.Error("hit with the last ack as old as its trust")
	}
	c.confirm(*now, 10, time.Second)
	if !fetch(c, req, answer("c1")) {
		t.Error("miss after a fresh ack")
	}
	// A reply naming a change not yet applied confirms nothing.
	*now = now.Add(2 * time.Second)
	c.confirm(*now, 11, time.Second)
	if fetch(c, req, answer("c1")) {
		t.Error("hit on an ack whose reply named an unapplied change")
	}
	c.apply([]*customerv1.CredentialChange{{Seq: 11, CredentialId: "other"}})
	c.confirm(*now, 11, time.Second)
	c.lost()
	c.sync(11)
	c.confirm(*now, 11, time.Second)
	if fetch(c, req, answer("c1")) {
		t.Error("an entry survived the loss of the stream")
	}
}

// Changes evict what they name; an answer fetched across a change is not
// stored (it may predate the change); the size stays bounded; an answer
// without cache_for is not cached.
func TestCacheChanges(t *testing.T) {
	t.Parallel()
	c, now := clockCache(t)
	c.sync(1)
	c.confirm(*now, 1, time.Minute)
	a, b := manexReq("KEY000000A"), manexReq("KEY000000B")
	const sessionID = "0123456789abcdef0123456789abcdef"
	session := &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_MagentoSession{
		MagentoSession: &customerv1.MagentoSession{SessionId: sessionID}}}
	fetch(c, a, answer("ca"))
	fetch(c, session, answer("cs"))
	if !fetch(c, a, nil) || !fetch(c, session, nil) {
		t.Fatal("entries not cached")
	}
	sum := sha256.Sum256([]byte(sessionID))
	c.apply([]*customerv1.CredentialChange{{Seq: 2, CredentialId: "ca"}, {Seq: 3, SessionHash: sum[:]}})
	c.confirm(*now, 3, time.Minute)
	if fetch(c, a, nil) || fetch(c, session, nil) {
		t.Error("a revoked credential or ended session still cached")
	}
	kb, _ := keyOf(b)
	_, _, st := c.lookup(kb)
	c.apply([]*customerv1.CredentialChange{{Seq: 4, CredentialId: "unrelated"}})
	c.confirm(*now, 4, time.Minute)
	c.store(st, kb, answer("cb"))
	if fetch(c, b, nil) {
		t.Error("an answer fetched across a change was cached")
	}
	for _, k := range []string{"KEY0000011", "KEY0000012", "KEY0000013", "KEY0000014"} {
		fetch(c, manexReq(k), answer("x"))
	}
	if len(c.entries) > 2 {
		t.Errorf("%d entries; the bound is 2", len(c.entries))
	}
	fetch(c, b, &customerv1.AuthenticateResponse{TenantId: "t", CredentialId: "cb"})
	if fetch(c, b, nil) {
		t.Error("an answer without cache_for was cached")
	}
}

// countingAdmin counts Authenticate calls and accepts one MANEX key.
type countingAdmin struct {
	customerv1.TenantAdminServiceClient
	calls *int
}

func (f countingAdmin) Authenticate(_ context.Context, req *customerv1.AuthenticateRequest, _ ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	*f.calls++
	if req.GetManex().GetApiKey() != "GOODKEY001" {
		return nil, status.Error(codes.Unauthenticated, "no")
	}
	return answer("good"), nil
}

// Through the Guard: a trusted cache saves the call; failures are never
// cached.
func TestGuardCachesOnlySuccesses(t *testing.T) {
	t.Parallel()
	c, now := clockCache(t)
	c.sync(1)
	c.confirm(*now, 1, time.Minute)
	calls := 0
	g := &Guard{client: countingAdmin{calls: &calls}, cache: c}
	for _, key := range []string{"GOODKEY001", "GOODKEY001", "BADKEY0001", "BADKEY0001"} {
		_, _ = g.authenticate(t.Context(), manexReq(key))
	}
	if calls != 3 {
		t.Errorf("%d calls; want 3: the good key once (then a hit), each failure each time", calls)
	}
}
