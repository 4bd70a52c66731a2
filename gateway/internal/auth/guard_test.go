package auth

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// fakeAdmin answers with a fixed tenant or error. A Magento session id of
// "" is never valid: Authenticate by session and StartMagentoSession accept
// only session and the credential user/key.
type fakeAdmin struct {
	customerv1.TenantAdminServiceClient
	tenant    string
	err       error
	session   string
	user, key string
	ended     *[]string // the sessions EndMagentoSession was asked to end
}

func (f fakeAdmin) Authenticate(_ context.Context, req *customerv1.AuthenticateRequest, _ ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	if s := req.GetMagentoSession(); s != nil && (s.GetSessionId() == "" || s.GetSessionId() != f.session) {
		return nil, status.Error(codes.Unauthenticated, "no such session")
	}
	return &customerv1.AuthenticateResponse{TenantId: f.tenant}, nil
}

func (f fakeAdmin) StartMagentoSession(_ context.Context, req *customerv1.StartMagentoSessionRequest, _ ...grpc.CallOption) (*customerv1.StartMagentoSessionResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	if c := req.GetCredential(); c.GetApiUser() != f.user || c.GetApiKey() != f.key {
		return nil, status.Error(codes.Unauthenticated, "wrong key")
	}
	return &customerv1.StartMagentoSessionResponse{SessionId: f.session, TenantId: f.tenant}, nil
}

func (f fakeAdmin) EndMagentoSession(_ context.Context, req *customerv1.EndMagentoSessionRequest, _ ...grpc.CallOption) (*customerv1.EndMagentoSessionResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	*f.ended = append(*f.ended, req.GetSessionId())
	return &customerv1.EndMagentoSessionResponse{}, nil
}

// checkFailure compares a Guard's answer with the failure a case wants.
func checkFailure(t *testing.T, f, want *Failure, wantStatus int) {
	t.Helper()
	switch {
	case want == nil && f != nil:
		t.Fatalf("failure %+v, want none", *f)
	case want == nil:
	case f == nil:
		t.Fatalf("no failure, want %+v", *want)
	case *f != *want || f.HTTPStatus() != wantStatus:
		t.Errorf("failure %+v (HTTP %d), want %+v (HTTP %d)", *f, f.HTTPStatus(), *want, wantStatus)
	}
}

// newTestGuard is a Guard over admin whose limiter allows one failure per
// client before it throttles for 6s; blocked spends that failure for r.
func newTestGuard(admin fakeAdmin, r *http.Request, blocked bool) *Guard {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limiter := NewLimiter(1, 6*time.Second, func() time.Time { return now })
	if blocked {
		limiter.Fail(ClientKey(r))
	}
	return NewGuard(admin, limiter, slog.New(slog.DiscardHandler))
}

// TestAuthenticateSorts: every way authentication fails is sorted into one
// of three kinds, and only a throttled client gets Retry-After.
func TestAuthenticateSorts(t *testing.T) {
	t.Parallel()
	good := "Basic " + "dXNlcjpwdw==" // user:pw
	tests := []struct {
		name       string
		header     string
		admin      fakeAdmin
		blocked    bool
		want       *Failure
		wantStatus int
		retryAfter string
	}{
		{name: "accepted", header: good, admin: fakeAdmin{tenant: "t1"}},
		{name: "no header", admin: fakeAdmin{tenant: "t1"},
			want: &Failure{Kind: InvalidCredentials, Missing: true}, wantStatus: http.StatusUnauthorized},
		{name: "not Basic", header: "Bearer x", admin: fakeAdmin{tenant: "t1"},
			want: &Failure{Kind: InvalidCredentials}, wantStatus: http.StatusUnauthorized},
		{name: "refused by the service", header: good, admin: fakeAdmin{err: status.Error(codes.Unauthenticated, "no")},
			want: &Failure{Kind: InvalidCredentials}, wantStatus: http.StatusUnauthorized},
		{name: "breaks the service's rules", header: good, admin: fakeAdmin{err: status.Error(codes.InvalidArgument, "too long")},
			want: &Failure{Kind: InvalidCredentials}, wantStatus: http.StatusUnauthorized},
		{name: "service down", header: good, admin: fakeAdmin{err: status.Error(codes.Unavailable, "down")},
			want: &Failure{Kind: Unavailable}, wantStatus: http.StatusServiceUnavailable},
		{name: "answer without a tenant", header: good, admin: fakeAdmin{},
			want: &Failure{Kind: Unavailable}, wantStatus: http.StatusServiceUnavailable},
		{name: "throttled", header: good, admin: fakeAdmin{tenant: "t1"}, blocked: true,
			want: &Failure{Kind: TooManyAttempts}, wantStatus: http.StatusTooManyRequests, retryAfter: "6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			g := newTestGuard(tt.admin, r, tt.blocked)
			w := httptest.NewRecorder()
			ctx, f := g.Authenticate(w, r, Basic)
			checkFailure(t, f, tt.want, tt.wantStatus)
			if tt.want == nil {
				if got, _ := tenancy.FromContext(ctx); got != tt.admin.tenant {
					t.Errorf("tenant %q, want %q", got, tt.admin.tenant)
				}
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
}

// TestStartMagentoSessionSorts: a SOAP login is sorted as Authenticate
// sorts, and counts its failures against the same client.
func TestStartMagentoSessionSorts(t *testing.T) {
	t.Parallel()
	session := "0123456789abcdef0123456789abcdef"
	ok := fakeAdmin{tenant: "t1", session: session, user: "api-user", key: "api-key"}
	tests := []struct {
		name        string
		key         string
		admin       fakeAdmin
		blocked     bool
		want        *Failure
		wantStatus  int
		retryAfter  string
		thenBlocked bool // the failure used up the client's one attempt
	}{
		{name: "accepted", key: "api-key", admin: ok},
		{name: "wrong key", key: "other", admin: ok,
			want: &Failure{Kind: InvalidCredentials}, wantStatus: http.StatusUnauthorized, thenBlocked: true},
		{name: "breaks the service's rules", key: "api-key", admin: fakeAdmin{err: status.Error(codes.InvalidArgument, "too long")},
			want: &Failure{Kind: InvalidCredentials}, wantStatus: http.StatusUnauthorized, thenBlocked: true},
		{name: "service down", key: "api-key", admin: fakeAdmin{err: status.Error(codes.Unavailable, "down")},
			want: &Failure{Kind: Unavailable}, wantStatus: http.StatusServiceUnavailable},
		{name: "answer without a session", key: "api-key", admin: fakeAdmin{tenant: "t1", user: "api-user", key: "api-key"},
			want: &Failure{Kind: Unavailable}, wantStatus: http.StatusServiceUnavailable},
		{name: "answer without a tenant", key: "api-key", admin: fakeAdmin{session: session, user: "api-user", key: "api-key"},
			want: &Failure{Kind: Unavailable}, wantStatus: http.StatusServiceUnavailable},
		{name: "throttled", key: "api-key", admin: ok, blocked: true,
			want: &Failure{Kind: TooManyAttempts}, wantStatus: http.StatusTooManyRequests, retryAfter: "6", thenBlocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/api/v2_soap/", nil)
			g := newTestGuard(tt.admin, r, tt.blocked)
			w := httptest.NewRecorder()
			id, f := g.StartMagentoSession(w, r, "api-user", tt.key)
			checkFailure(t, f, tt.want, tt.wantStatus)
			wantID := ""
			if tt.want == nil {
				wantID = session
			}
			if id != wantID {
				t.Errorf("session %q, want %q", id, wantID)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if _, blocked := g.limiter.Blocked(ClientKey(r)); blocked != tt.thenBlocked {
				t.Errorf("client blocked afterwards: %v, want %v", blocked, tt.thenBlocked)
			}
		})
	}
}

// TestMagentoSession: the session a login returned authenticates through
// Authenticate, another id does not, and EndMagentoSession passes the id and
// the service's error through as they are.
func TestMagentoSession(t *testing.T) {
	t.Parallel()
	var ended []string
	admin := fakeAdmin{tenant: "t1", session: "0123456789abcdef0123456789abcdef", user: "u", key: "k", ended: &ended}
	r := httptest.NewRequest(http.MethodPost, "/api/v2_soap/", nil)
	g := newTestGuard(admin, r, false)
	id, f := g.StartMagentoSession(httptest.NewRecorder(), r, "u", "k")
	if f != nil {
		t.Fatalf("login: failure %+v", *f)
	}
	ctx, f := g.Authenticate(httptest.NewRecorder(), r, MagentoSession(id))
	if f != nil {
		t.Fatalf("authenticate by session: failure %+v", *f)
	}
	if got, _ := tenancy.FromContext(ctx); got != "t1" {
		t.Errorf("tenant %q, want t1", got)
	}
	for _, other := range []string{"", "fedcba9876543210fedcba9876543210"} {
		// A guard of its own, so the first refusal does not throttle the second.
		_, f = newTestGuard(admin, r, false).Authenticate(httptest.NewRecorder(), r, MagentoSession(other))
		checkFailure(t, f, &Failure{Kind: InvalidCredentials}, http.StatusUnauthorized)
	}
	if err := g.EndMagentoSession(context.Background(), id); err != nil {
		t.Fatalf("end session: %v", err)
	}
	if len(ended) != 1 || ended[0] != id {
		t.Errorf("ended %q, want [%q]", ended, id)
	}
	down := newTestGuard(fakeAdmin{err: status.Error(codes.Unavailable, "down")}, r, false)
	if err := down.EndMagentoSession(context.Background(), id); status.Code(err) != codes.Unavailable {
		t.Errorf("end session with the service down: %v, want its Unavailable", err)
	}
}

func TestMessagesFor(t *testing.T) {
	t.Parallel()
	m := Messages{Unavailable: "u", InvalidCredentials: "i", TooManyAttempts: "t"}
	for f, want := range map[Failure]string{
		{Kind: Unavailable}: "u", {Kind: InvalidCredentials}: "i", {Kind: InvalidCredentials, Missing: true}: "i",
		{Kind: TooManyAttempts}: "t", {Kind: Kind(9)}: "u",
	} {
		if got := m.For(f); got != want {
			t.Errorf("For(%+v) = %q, want %q", f, got, want)
		}
	}
}
