// Package tenancy carries the authenticated tenant between Abacus processes.
//
// The gateway (or any internal caller) sends two pieces of gRPC metadata:
// "authorization: Bearer <service token>", which proves the caller is part of
// Abacus, and "x-abacus-tenant: <tenant id>", the tenant the call acts for.
// Services check both in an interceptor before any handler runs, so a
// handler's context always holds a known tenant.
package tenancy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TenantKey is the metadata key that names the tenant of a call.
const TenantKey = "x-abacus-tenant"

const authorizationKey = "authorization"

type tenantCtxKey struct{}

// WithTenant returns a context acting for tenantID. Servers find it there
// after the interceptor; clients put it there before calling.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantCtxKey{}, tenantID)
}

// FromContext returns the tenant of ctx.
func FromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(tenantCtxKey{}).(string)
	return id, ok && id != ""
}

// Checker reports whether a tenant exists.
type Checker interface {
	TenantExists(ctx context.Context, tenantID string) (bool, error)
}

// Policy is the server side: every method needs the service token; every
// method except those in TenantFree also needs a known tenant. Health and
// reflection need nothing, so probes and grpcurl work.
type Policy struct {
	token      [sha256.Size]byte
	checker    Checker
	tenantFree func(fullMethod string) bool
}

// NewPolicy returns a policy. tenantFree may be nil.
func NewPolicy(serviceToken string, checker Checker, tenantFree func(fullMethod string) bool) *Policy {
	if tenantFree == nil {
		tenantFree = func(string) bool { return false }
	}
	return &Policy{token: sha256.Sum256([]byte(serviceToken)), checker: checker, tenantFree: tenantFree}
}

func open(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// Authorize checks the metadata of an incoming call and returns the context
// the handler gets.
func (p *Policy) Authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	if open(fullMethod) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	token, ok := strings.CutPrefix(first(md, authorizationKey), "Bearer ")
	presented := sha256.Sum256([]byte(token))
	if !ok || subtle.ConstantTimeCompare(presented[:], p.token[:]) != 1 {
		return nil, status.Error(codes.Unauthenticated, "missing or invalid service token")
	}
	if p.tenantFree(fullMethod) {
		return ctx, nil
	}
	tenantID := first(md, TenantKey)
	if tenantID == "" {
		return nil, status.Error(codes.Unauthenticated, "missing tenant: send the "+TenantKey+" metadata")
	}
	known, err := p.checker.TenantExists(ctx, tenantID)
	if err != nil {
		return nil, status.Error(codes.Unavailable, "cannot verify tenant")
	}
	if !known {
		return nil, status.Error(codes.PermissionDenied, "unknown tenant")
	}
	return WithTenant(ctx, tenantID), nil
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// outgoing replaces (never appends to) the auth metadata, so nothing a
// caller forwarded from an HTTP request can choose the tenant.
func outgoing(ctx context.Context, token string) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(authorizationKey, "Bearer "+token)
	if tenantID, ok := FromContext(ctx); ok {
		md.Set(TenantKey, tenantID)
	} else {
		md.Delete(TenantKey)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// DialOptions make a client send the service token on every call, and the
// tenant of the call's context (WithTenant) when there is one.
func DialOptions(serviceToken string) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(outgoing(ctx, serviceToken), method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(outgoing(ctx, serviceToken), desc, cc, method, opts...)
		}),
	}
}

// CachedChecker remembers tenants that exist for ttl. Unknown answers are
// never cached, so a tenant created a moment ago is found at once.
type CachedChecker struct {
	inner Checker
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	known map[string]time.Time
}

// NewCachedChecker wraps inner.
func NewCachedChecker(inner Checker, ttl time.Duration) *CachedChecker {
	return &CachedChecker{inner: inner, ttl: ttl, now: time.Now, known: map[string]time.Time{}}
}

// TenantExists implements Checker.
func (c *CachedChecker) TenantExists(ctx context.Context, tenantID string) (bool, error) {
	c.mu.Lock()
	exp, ok := c.known[tenantID]
	c.mu.Unlock()
	if ok && c.now().Before(exp) {
		return true, nil
	}
	exists, err := c.inner.TenantExists(ctx, tenantID)
	if err != nil || !exists {
		return exists, err
	}
	c.mu.Lock()
	if len(c.known) > 100_000 { // bound memory against a flood of distinct ids
		clear(c.known)
	}
	c.known[tenantID] = c.now().Add(c.ttl)
	c.mu.Unlock()
	return true, nil
}
