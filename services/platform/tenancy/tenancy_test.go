package tenancy

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// tenantSet is an in-memory Checker; the real ones are exercised end to end
// in gateway/e2e.
type tenantSet struct {
	known map[string]bool
	calls int
	err   error
}

func (s *tenantSet) TenantExists(_ context.Context, id string) (bool, error) {
	s.calls++
	return s.known[id], s.err
}

func TestPolicyAuthorize(t *testing.T) {
	t.Parallel()
	const method = "/abacus.ledger.v1.LedgerService/GetBalances"
	p := NewPolicy("tok", &tenantSet{known: map[string]bool{"t1": true}}, func(m string) bool { return m == "/admin/Free" })
	for _, tc := range []struct {
		name, method string
		md           []string
		want         codes.Code
		wantTenant   string
	}{
		{"health is open", "/grpc.health.v1.Health/Check", nil, codes.OK, ""},
		{"reflection is open", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", nil, codes.OK, ""},
		{"no token", method, []string{TenantKey, "t1"}, codes.Unauthenticated, ""},
		{"wrong token", method, []string{"authorization", "Bearer tok2", TenantKey, "t1"}, codes.Unauthenticated, ""},
		{"token without Bearer", method, []string{"authorization", "tok", TenantKey, "t1"}, codes.Unauthenticated, ""},
		{"no tenant", method, []string{"authorization", "Bearer tok"}, codes.Unauthenticated, ""},
		{"unknown tenant", method, []string{"authorization", "Bearer tok", TenantKey, "t2"}, codes.PermissionDenied, ""},
		{"known tenant", method, []string{"authorization", "Bearer tok", TenantKey, "t1"}, codes.OK, "t1"},
		{"tenant-free method", "/admin/Free", []string{"authorization", "Bearer tok"}, codes.OK, ""},
		{"tenant-free method still needs the token", "/admin/Free", nil, codes.Unauthenticated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(tc.md...))
			got, err := p.Authorize(ctx, tc.method)
			if status.Code(err) != tc.want {
				t.Fatalf("code = %v, want %v (%v)", status.Code(err), tc.want, err)
			}
			if err == nil {
				if id, _ := FromContext(got); id != tc.wantTenant {
					t.Errorf("tenant = %q, want %q", id, tc.wantTenant)
				}
			}
		})
	}
}

func TestPolicyCheckerFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	p := NewPolicy("tok", &tenantSet{err: errors.New("down")}, nil)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer tok", TenantKey, "t1"))
	if _, err := p.Authorize(ctx, "/x/Y"); status.Code(err) != codes.Unavailable {
		t.Errorf("code = %v, want Unavailable", status.Code(err))
	}
}

func TestOutgoingReplacesTenant(t *testing.T) {
	t.Parallel()
	// Metadata a caller copied from elsewhere cannot choose the tenant.
	ctx := metadata.AppendToOutgoingContext(context.Background(), TenantKey, "evil", "authorization", "Bearer evil")
	md, _ := metadata.FromOutgoingContext(outgoing(WithTenant(ctx, "t1"), "tok"))
	if got := md.Get(TenantKey); len(got) != 1 || got[0] != "t1" {
		t.Errorf("tenant metadata = %v", got)
	}
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Errorf("authorization = %v", got)
	}
	md, _ = metadata.FromOutgoingContext(outgoing(ctx, "tok"))
	if got := md.Get(TenantKey); len(got) != 0 {
		t.Errorf("no tenant in context, yet metadata carries %v", got)
	}
}

func TestCachedChecker(t *testing.T) {
	t.Parallel()
	inner := &tenantSet{known: map[string]bool{"t1": true}}
	c := NewCachedChecker(inner, time.Minute)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if ok, _ := c.TenantExists(ctx, "t1"); !ok {
			t.Fatal("t1 unknown")
		}
	}
	if inner.calls != 1 {
		t.Errorf("known tenant checked %d times, want 1 (cached)", inner.calls)
	}
	for range 2 {
		if ok, _ := c.TenantExists(ctx, "t2"); ok {
			t.Fatal("t2 known")
		}
	}
	if inner.calls != 3 {
		t.Errorf("calls = %d, want 3: unknown answers are not cached", inner.calls)
	}
	now = now.Add(2 * time.Minute)
	c.TenantExists(ctx, "t1")
	if inner.calls != 4 {
		t.Errorf("calls = %d, want 4: the entry expired", inner.calls)
	}
}
