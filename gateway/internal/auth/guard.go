package auth

import (
	"context"
	"errors"
	"fmt"
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

// ErrInvalidCredentials is returned, wrapping the precise reason, when a
// request's credentials are missing, malformed, wrong or revoked.
var ErrInvalidCredentials = errors.New("invalid credentials")

// ErrUnavailable is returned when the credentials could not be checked
// because the customer service failed; it is not the client's fault and is
// not counted against it.
var ErrUnavailable = errors.New("authentication service unavailable")

// TooManyAttemptsError is returned, before any credential is checked, while
// the client has exhausted its failed attempts.
type TooManyAttemptsError struct {
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed authentication attempts; retry after %s", e.RetryAfter)
}

// SetRetryAfter sets the Retry-After header (whole seconds, at least 1).
func (e *TooManyAttemptsError) SetRetryAfter(h http.Header) {
	secs := int(math.Ceil(e.RetryAfter.Seconds()))
	h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

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
// that tenant, so every service call made with it carries the tenant. The
// error is a *TooManyAttemptsError, wraps ErrInvalidCredentials, or wraps
// ErrUnavailable.
func (g *Guard) Authenticate(r *http.Request, credential CredentialFunc) (context.Context, error) {
	key := ClientKeyBehind(r, g.trusted)
	if wait, blocked := g.limiter.Blocked(key); blocked {
		return nil, &TooManyAttemptsError{RetryAfter: wait}
	}
	req, err := credential(r)
	if err != nil {
		g.fail(r, key, err)
		return nil, fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
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
		return nil, fmt.Errorf("%w: %s", ErrInvalidCredentials, status.Convert(err).Message())
	default:
		g.log.ErrorContext(r.Context(), "authenticate call failed", "error", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if resp.GetTenantId() == "" {
		g.log.ErrorContext(r.Context(), "authenticate answered without a tenant")
		return nil, ErrUnavailable
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
