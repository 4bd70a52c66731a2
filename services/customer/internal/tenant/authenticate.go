package tenant

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
)

// Principal is who a credential authenticates.
type Principal struct {
	TenantID     string
	CredentialID string
	Kind         int
	// CacheFor is how long a gateway may reuse this answer (see
	// CacheCredentials); 0: not at all.
	CacheFor time.Duration
}

// Credentials presented by a client. Exactly one form is set.
type Credentials struct {
	Exigo   *ExigoCredentials
	Igsend  *PairCredentials
	Manex   string
	Magento *PairCredentials
	// Basic is any Basic credential of the native API.
	Basic *PairCredentials
	// MagentoSession is the id of a session StartMagentoSession opened.
	MagentoSession string
}

// ExigoCredentials are login@company:password.
type ExigoCredentials struct{ Login, Company, Password string }

// PairCredentials are user:secret pairs (igsend public:private, Magento
// apiUser:apiKey, or a raw Basic pair).
type PairCredentials struct{ User, Secret string }

// dummyHash keeps the work of a failed lookup the same as a real compare.
var dummyHash = hashSecret("abacus-no-such-credential")

// Authenticate resolves credentials to a principal. Every failure is the same
// ErrUnauthenticated, so a caller cannot tell a wrong secret from an unknown
// user.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (Principal, error) {
	var (
		cred   store.Credential
		hash   []byte
		secret string
		err    error
	)
	switch {
	case c.Exigo != nil:
		cred, hash, err = s.store.FindExigo(ctx, c.Exigo.Company, c.Exigo.Login)
		secret = c.Exigo.Password
	case c.Igsend != nil:
		cred, hash, err = s.store.FindByIdentifier(ctx, []int{KindIgsendLive, KindIgsendSandbox}, c.Igsend.User)
		secret = c.Igsend.Secret
	case c.Magento != nil:
		cred, hash, err = s.store.FindByIdentifier(ctx, []int{KindMagento}, c.Magento.User)
		secret = c.Magento.Secret
	case c.Manex != "":
		h := hashSecret(c.Manex)
		cred, hash, err = s.store.FindManex(ctx, h[:])
		secret = c.Manex
	case c.Basic != nil:
		return s.authenticateBasic(ctx, *c.Basic)
	case c.MagentoSession != "":
		return s.authenticateSession(ctx, c.MagentoSession)
	default:
		return Principal{}, ErrUnauthenticated
	}
	if errors.Is(err, store.ErrNotFound) {
		secretMatches(secret, dummyHash[:])
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if !secretMatches(secret, hash) || cred.Revoked() {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{TenantID: cred.TenantID, CredentialID: cred.ID, Kind: cred.Kind, CacheFor: s.cacheFor}, nil
}

// authenticateBasic accepts any of the tenant's Basic credentials: Exigo when
// the user has an "@", else an igsend pair, else a Magento pair.
func (s *Service) authenticateBasic(ctx context.Context, b PairCredentials) (Principal, error) {
	if i := strings.LastIndexByte(b.User, '@'); i > 0 {
		return s.Authenticate(ctx, Credentials{Exigo: &ExigoCredentials{Login: b.User[:i], Company: b.User[i+1:], Password: b.Secret}})
	}
	p, err := s.Authenticate(ctx, Credentials{Igsend: &b})
	if !errors.Is(err, ErrUnauthenticated) {
		return p, err
	}
	return s.Authenticate(ctx, Credentials{Magento: &b})
}
