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

// fakeAdmin answers Authenticate with a fixed tenant or error.
type fakeAdmin struct {
	customerv1.TenantAdminServiceClient
	tenant string
	err    error
}

func (f fakeAdmin) Authenticate(context.Context, *customerv1.AuthenticateRequest, ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &customerv1.AuthenticateResponse{TenantId: f.tenant}, nil
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
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			limiter := NewLimiter(1, 6*time.Second, func() time.Time { return now })
			g := NewGuard(tt.admin, limiter, slog.New(slog.DiscardHandler))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if tt.blocked {
				limiter.Fail(ClientKey(r))
			}
			w := httptest.NewRecorder()
			ctx, f := g.Authenticate(w, r, Basic)
			switch {
			case tt.want == nil && f != nil:
				t.Fatalf("failure %+v, want none", *f)
			case tt.want == nil:
				if got, _ := tenancy.FromContext(ctx); got != tt.admin.tenant {
					t.Errorf("tenant %q, want %q", got, tt.admin.tenant)
				}
			case f == nil:
				t.Fatalf("no failure, want %+v", *tt.want)
			default:
				if *f != *tt.want || f.HTTPStatus() != tt.wantStatus {
					t.Errorf("failure %+v (HTTP %d), want %+v (HTTP %d)", *f, f.HTTPStatus(), *tt.want, tt.wantStatus)
				}
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
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
