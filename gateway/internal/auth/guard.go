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

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// CredentialFunc extracts a dialect's credential from a request. An error
// means the request carries no usable credential; it counts as a failure.
type CredentialFunc func(r *http.Request) (*customerv1.AuthenticateRequest, error)

// Guard authenticates requests against TenantAdminService. It keeps no cache
// of successes: a revoked credential must stop working at once.
type Guard struct {
	client  customerv1.TenantAdminServiceClient
	limiter *Limiter
	log     *slog.Logger
	timeout time.Duration
	trusted []netip.Prefix
}

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
	key := ClientKeyBehind(r, g.trusted)
	if wait, blocked := g.limiter.Blocked(key); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
		return nil, &Failure{Kind: TooManyAttempts}
	}
	req, err := credential(r)
	if err != nil {
		g.fail(r, key, err)
		return nil, &Failure{Kind: InvalidCredentials, Missing: errors.Is(err, ErrMissing)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	resp, err := g.client.Authenticate(ctx, req)
	switch status.Code(err) {
	case codes.OK:
	case codes.Unauthenticated, codes.InvalidArgument, codes.PermissionDenied, codes.NotFound:
		// InvalidArgument: the credential breaks the service's length or
		// format rules, so it cannot be a valid one.
		g.fail(r, key, err)
		return nil, &Failure{Kind: InvalidCredentials}
	default:
		g.log.ErrorContext(r.Context(), "authenticate call failed", "error", err)
		return nil, &Failure{Kind: Unavailable}
	}
	if resp.GetTenantId() == "" {
		g.log.ErrorContext(r.Context(), "authenticate answered without a tenant")
		return nil, &Failure{Kind: Unavailable}
	}
	return tenancy.WithTenant(r.Context(), resp.GetTenantId()), nil
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
