package auth

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// CredentialFunc extracts a dialect's credential from a request. An error
// means the request carries no usable credential; it counts as a failure.
type CredentialFunc func(r *http.Request) (*customerv1.AuthenticateRequest, error)

// Guard authenticates requests against TenantAdminService, answering from a
// Cache when it has one and the cache is trusted (see Cache): a revoked
// credential stops working at once either way.
type Guard struct {
	client  customerv1.TenantAdminServiceClient
	limiter *Limiter
	log     *slog.Logger
	timeout time.Duration
	trusted []netip.Prefix
	cache   *Cache
}

// UseCache makes the guard answer verified credentials from cache, which
// Cache.Watch must keep current. Call before serving.
func (g *Guard) UseCache(cache *Cache) { g.cache = cache }

// TrustProxies makes the limiter key requests from these proxies by the
// client address they forward (see ClientKeyBehind). Call before serving.
func (g *Guard) TrustProxies(trusted []netip.Prefix) { g.trusted = trusted }

// NewGuard returns a Guard calling client and limiting failures with limiter.
func NewGuard(client customerv1.TenantAdminServiceClient, limiter *Limiter, log *slog.Logger) *Guard {
	return &Guard{client: client, limiter: limiter, log: log, timeout: 5 * time.Second}
}

// Authenticate checks the limiter, extracts the credential with credential,
// and resolves it to a tenant. On success it returns r's context acting for
// that tenant, so every service call made with it carries the tenant. On
// failure it returns the sorted failure, having logged a refused credential
// or an outage and set the headers every API sends with the failure:
// Retry-After (whole seconds, at least 1) while the client is throttled.
func (g *Guard) Authenticate(w http.ResponseWriter, r *http.Request, credential CredentialFunc) (context.Context, *Failure) {
	resp, f := verify(g, w, r, "authenticate",
		func() (*customerv1.AuthenticateRequest, error) { return credential(r) },
		g.authenticate,
		func(a *customerv1.AuthenticateResponse) bool { return a.GetTenantId() != "" })
	if f != nil {
		return nil, f
	}
	return tenancy.WithTenant(r.Context(), resp.GetTenantId()), nil
}

// authenticate is TenantAdminService.Authenticate through the cache: a
// trusted hit answers at once; a fetched success is kept when the answer
// allows it. Failures pass through uncached.
func (g *Guard) authenticate(ctx context.Context, req *customerv1.AuthenticateRequest, opts ...grpc.CallOption) (*customerv1.AuthenticateResponse, error) {
	if g.cache == nil {
		return g.client.Authenticate(ctx, req, opts...)
	}
	k, ok := keyOf(req)
	if !ok {
		return g.client.Authenticate(ctx, req, opts...)
	}
	tenantID, hit, st := g.cache.lookup(k)
	if hit {
		return &customerv1.AuthenticateResponse{TenantId: tenantID}, nil
	}
	resp, err := g.client.Authenticate(ctx, req, opts...)
	if err == nil {
		g.cache.store(st, k, resp)
	}
	return resp, err
}

// StartMagentoSession is Magento's SOAP login: it verifies the Magento
// credential apiUser/apiKey and opens a session for it, under the same
// limiter, logging and sorting as Authenticate. The session then
// authenticates requests through Authenticate with MagentoSession.
func (g *Guard) StartMagentoSession(w http.ResponseWriter, r *http.Request, apiUser, apiKey string) (sessionID string, fail *Failure) {
	resp, f := verify(g, w, r, "start magento session",
		func() (*customerv1.StartMagentoSessionRequest, error) {
			return &customerv1.StartMagentoSessionRequest{
				Credential: &customerv1.MagentoCredential{ApiUser: apiUser, ApiKey: apiKey},
			}, nil
		},
		g.client.StartMagentoSession,
		func(s *customerv1.StartMagentoSessionResponse) bool {
			return s.GetTenantId() != "" && s.GetSessionId() != ""
		})
	if f != nil {
		return "", f
	}
	return resp.GetSessionId(), nil
}

// EndMagentoSession is Magento's SOAP endSession. Ending an unknown, expired
// or ended session succeeds. It returns the call's error as it came, for the
// caller to sort: ending a session is no authentication, so it neither
// consults nor feeds the limiter.
func (g *Guard) EndMagentoSession(ctx context.Context, sessionID string) error {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	_, err := g.client.EndMagentoSession(ctx, &customerv1.EndMagentoSessionRequest{SessionId: sessionID})
	if err == nil && g.cache != nil {
		// The change stream brings the same news before the call returns;
		// this only saves the wait for it on this gateway.
		g.cache.evictSession(sessionID)
	}
	return err
}

// MagentoSession is the CredentialFunc of Magento's SOAP API: the session id
// a login returned. The customer service refuses an empty or malformed id
// as it refuses an unknown one.
func MagentoSession(sessionID string) CredentialFunc {
	return func(*http.Request) (*customerv1.AuthenticateRequest, error) {
		return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_MagentoSession{
			MagentoSession: &customerv1.MagentoSession{SessionId: sessionID},
		}}, nil
	}
}

// verify is the one path of every credential check: the limiter first, then
// the credential from the request, then the customer service's answer
// (call), sorted into a Failure. answered tells whether a successful answer
// holds what the caller needs; one that does not is an outage.
func verify[Req, Resp any](g *Guard, w http.ResponseWriter, r *http.Request, what string,
	credential func() (Req, error),
	call func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	answered func(Resp) bool,
) (Resp, *Failure) {
	var none Resp
	key := ClientKeyBehind(r, g.trusted)
	if wait, blocked := g.limiter.Blocked(key); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
		return none, &Failure{Kind: TooManyAttempts}
	}
	req, err := credential()
	if err != nil {
		g.fail(r, key, err)
		return none, &Failure{Kind: InvalidCredentials, Missing: errors.Is(err, ErrMissing)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	resp, err := call(ctx, req)
	switch status.Code(err) {
	case codes.OK:
	case codes.Unauthenticated, codes.InvalidArgument, codes.PermissionDenied, codes.NotFound:
		// InvalidArgument: the credential breaks the service's length or
		// format rules, so it cannot be a valid one.
		g.fail(r, key, err)
		return none, &Failure{Kind: InvalidCredentials}
	default:
		g.log.ErrorContext(r.Context(), what+" call failed", "error", err)
		return none, &Failure{Kind: Unavailable}
	}
	if !answered(resp) {
		g.log.ErrorContext(r.Context(), what+" answered without a tenant or session")
		return none, &Failure{Kind: Unavailable}
	}
	return resp, nil
}

func (g *Guard) fail(r *http.Request, key string, reason error) {
	g.limiter.Fail(key)
	g.log.WarnContext(r.Context(), "authentication failed", "client", key, "reason", reason.Error())
}

// Basic is the CredentialFunc of the native API: any Basic credential.
func Basic(r *http.Request) (*customerv1.AuthenticateRequest, error) {
	user, password, err := BasicFromRequest(r)
	if err != nil {
		return nil, err
	}
	return &customerv1.AuthenticateRequest{Credential: &customerv1.AuthenticateRequest_Basic{
		Basic: &customerv1.BasicCredential{Username: user, Password: password},
	}}, nil
}
