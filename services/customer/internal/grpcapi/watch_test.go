package grpcapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

type watchStream = interface {
	Send(*customerv1.WatchCredentialChangesRequest) error
	Recv() (*customerv1.WatchCredentialChangesResponse, error)
}

// newCredential creates a tenant with one Magento credential through c.
func newCredential(t *testing.T, c customerv1.TenantAdminServiceClient, company string) *customerv1.CreateCredentialResponse {
	t.Helper()
	tn, err := c.CreateTenant(t.Context(), &customerv1.CreateTenantRequest{Name: company, Company: company})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateCredential(t.Context(), &customerv1.CreateCredentialRequest{
		TenantId: tn.GetTenant().GetTenantId(), Kind: customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

// reply reads until the next reply to an ack, counting the nudges before it.
func reply(t *testing.T, s watchStream) (*customerv1.WatchCredentialChangesResponse, int) {
	t.Helper()
	for nudges := 0; ; nudges++ {
		r, err := s.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if r.GetReply() {
			return r, nudges
		}
	}
}

func ackedSeq(t *testing.T, url, watcher string) int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var seq int64
	if err := conn.QueryRow(t.Context(), `SELECT acked_seq FROM customer.credential_watchers WHERE watcher_id = $1`, watcher).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// A watcher streaming from one replica is nudged when a credential is
// revoked through another, gets the change in the reply to its next ack,
// and the revoke returns only once it has acked the change.
func TestRevokeWaitsForLiveWatcher(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "customer", migrateCustomerSchema)
	// A long trust: the watcher stays live however slow the machine.
	one, two := serveTenantAdminTrusting(t, url, time.Minute), serveTenantAdminTrusting(t, url, time.Minute)
	cr := newCredential(t, one, "acme")
	stream, err := two.WatchCredentialChanges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	watcher := uuid.NewString()
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher, AppliedSeq: 12345}); err != nil {
		t.Fatal(err)
	}
	sync, _ := reply(t, stream)
	if len(sync.GetChanges()) != 0 || sync.GetTrustFor().AsDuration() != time.Minute {
		t.Fatalf("first reply = %v; want no changes and trust_for 1m", sync)
	}
	if got := ackedSeq(t, url, watcher); got != sync.GetLatestSeq() {
		t.Fatalf("first ack recorded as %d; want the latest seq %d", got, sync.GetLatestSeq())
	}

	revoked := make(chan error, 1)
	go func() {
		_, err := one.RevokeCredential(context.Background(), &customerv1.RevokeCredentialRequest{CredentialId: cr.GetCredential().GetCredentialId()})
		revoked <- err
	}()
	r, err := stream.Recv()
	if err != nil || r.GetReply() {
		t.Fatalf("after the revoke got %v, %v; want a nudge", r, err)
	}
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher, AppliedSeq: sync.GetLatestSeq()}); err != nil {
		t.Fatal(err)
	}
	got, _ := reply(t, stream)
	if len(got.GetChanges()) != 1 || got.GetChanges()[0].GetCredentialId() != cr.GetCredential().GetCredentialId() ||
		got.GetLatestSeq() != got.GetChanges()[0].GetSeq() {
		t.Fatalf("reply = %v; want the one revocation, as the latest", got)
	}
	select {
	case err := <-revoked:
		t.Fatalf("revoke returned (%v) before the live watcher acked it", err)
	default:
	}
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher, AppliedSeq: got.GetLatestSeq()}); err != nil {
		t.Fatal(err)
	}
	if err := <-revoked; err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := two.Authenticate(t.Context(), &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Magento{
		Magento: &customerv1.MagentoCredential{ApiUser: cr.GetCredential().GetIdentifier(), ApiKey: cr.GetSecret()},
	}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked credential authenticates: %v", err)
	}
}

// A watcher that acks once and then falls silent delays a revoke only up
// to the bound (twice the trust): the revoke returns with its ack still
// behind. An ended session's change reaches a watcher too.
func TestSilentWatcherDelaysRevokeOnlyToBound(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "customer", migrateCustomerSchema)
	c := serveTenantAdminTrusting(t, url, 100*time.Millisecond)
	cr := newCredential(t, c, "globex")
	stream, err := c.WatchCredentialChanges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	watcher := uuid.NewString()
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher}); err != nil {
		t.Fatal(err)
	}
	sync, _ := reply(t, stream)

	login, err := c.StartMagentoSession(t.Context(), &customerv1.StartMagentoSessionRequest{Credential: &customerv1.MagentoCredential{
		ApiUser: cr.GetCredential().GetIdentifier(), ApiKey: cr.GetSecret(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EndMagentoSession(t.Context(), &customerv1.EndMagentoSessionRequest{SessionId: login.GetSessionId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeCredential(t.Context(), &customerv1.RevokeCredentialRequest{CredentialId: cr.GetCredential().GetCredentialId()}); err != nil {
		t.Fatal(err)
	}
	if got := ackedSeq(t, url, watcher); got != sync.GetLatestSeq() {
		t.Fatalf("acked seq %d; want it still at %d", got, sync.GetLatestSeq())
	}
	// The silent watcher, asking at last, gets both changes in order.
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher, AppliedSeq: sync.GetLatestSeq()}); err != nil {
		t.Fatal(err)
	}
	got, _ := reply(t, stream)
	ch := got.GetChanges()
	if len(ch) != 2 || len(ch[0].GetSessionHash()) != 32 || ch[1].GetCredentialId() != cr.GetCredential().GetCredentialId() ||
		ch[0].GetSeq() >= ch[1].GetSeq() || got.GetLatestSeq() != ch[1].GetSeq() {
		t.Fatalf("changes = %v; want the ended session, then the revocation", got)
	}
}

// A stream's acks must name a watcher; a malformed one ends the stream
// INVALID_ARGUMENT.
func TestWatchRefusesBadWatcher(t *testing.T) {
	t.Parallel()
	c := serveTenantAdmin(t, pgtest.NewDatabase(t, "customer", migrateCustomerSchema))
	stream, err := c.WatchCredentialChanges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: "gateway-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("got %v; want INVALID_ARGUMENT", err)
	}
}
