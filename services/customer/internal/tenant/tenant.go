// Package tenant is the domain of tenants and their credentials: secrets are
// generated here, shown once, stored only hashed and compared in constant time.
package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

// Domain errors; grpcapi maps them to codes in one place.
var (
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrInvalid         = errors.New("invalid argument")
	ErrUnauthenticated = errors.New("invalid credentials")
)

// Credential kinds.
const (
	KindExigo         = store.KindExigo
	KindIgsendLive    = store.KindIgsendLive
	KindIgsendSandbox = store.KindIgsendSandbox
	KindManex         = store.KindManex
	KindMagento       = store.KindMagento
)

// Service manages tenants, credentials and Magento sessions.
type Service struct {
	store      *store.Store
	sessionTTL time.Duration
	// cacheFor and trust: see CacheCredentials.
	cacheFor, trust time.Duration
	watchers        Watchers
}

// NewService returns a service over st whose Magento sessions expire after
// sessionTTL (> 0) of idleness.
func NewService(st *store.Store, sessionTTL time.Duration) *Service {
	return &Service{store: st, sessionTTL: sessionTTL, cacheFor: DefaultCacheFor, trust: DefaultTrust}
}

var companyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CreateTenant creates a live tenant.
func (s *Service) CreateTenant(ctx context.Context, name, company string) (store.Tenant, error) {
	name = strings.TrimSpace(name)
	if rule := textrule.Name(name); rule != "" {
		return store.Tenant{}, fmt.Errorf("%w: name %s", ErrInvalid, rule)
	}
	if utf8.RuneCountInString(name) > 200 {
		return store.Tenant{}, fmt.Errorf("%w: name must be 1 to 200 characters", ErrInvalid)
	}
	if !companyPattern.MatchString(company) {
		return store.Tenant{}, fmt.Errorf("%w: company must be lower-case letters, digits and dashes", ErrInvalid)
	}
	t, err := s.store.CreateTenant(ctx, store.Tenant{ID: uuid.NewString(), Name: name, Company: company})
	if errors.Is(err, store.ErrConflict) {
		return store.Tenant{}, fmt.Errorf("%w: company %q is taken", ErrAlreadyExists, company)
	}
	return t, err
}

// GetTenant returns a tenant.
func (s *Service) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.Tenant{}, fmt.Errorf("%w: tenant %q", ErrNotFound, id)
	}
	t, err := s.store.GetTenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, fmt.Errorf("%w: tenant %s", ErrNotFound, id)
	}
	return t, err
}

// TenantExists reports whether id names a tenant (tenancy.Checker).
func (s *Service) TenantExists(ctx context.Context, id string) (bool, error) {
	_, err := s.GetTenant(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ListTenants pages through tenants.
func (s *Service) ListTenants(ctx context.Context, after *store.TenantPage, limit int) ([]store.Tenant, error) {
	return s.store.ListTenants(ctx, after, limit)
}

// sandboxOf returns the sandbox twin of a live tenant, creating it on first use.
func (s *Service) sandboxOf(ctx context.Context, live store.Tenant) (store.Tenant, error) {
	t, err := s.store.SandboxOf(ctx, live.ID)
	if !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	t, err = s.store.CreateTenant(ctx, store.Tenant{
		ID: uuid.NewString(), Name: live.Name + " (sandbox)", Company: live.Company, Sandbox: true, LiveTenantID: live.ID,
	})
	if errors.Is(err, store.ErrConflict) { // created concurrently
		return s.store.SandboxOf(ctx, live.ID)
	}
	return t, err
}

// NewCredential is a credential with its secret, which is never stored.
type NewCredential struct {
	store.Credential
	Secret string
}

var identifierPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// manexIDPrefix starts a MANEX credential's identifier, as pk_live_ and
// pk_test_ start igsend public keys: the kind shows in the identifier.
const manexIDPrefix = "mx_"

// CreateCredential generates a credential of kind for the live tenant
// tenantID. identifier names an Exigo login or Magento API user; when empty
// one is generated.
func (s *Service) CreateCredential(ctx context.Context, tenantID string, kind int, identifier string) (NewCredential, error) {
	live, err := s.GetTenant(ctx, tenantID)
	if err != nil {
		return NewCredential{}, err
	}
	if live.Sandbox {
		return NewCredential{}, fmt.Errorf("%w: credentials are created on the live tenant", ErrInvalid)
	}
	owner := live
	c := store.Credential{ID: uuid.NewString(), Kind: kind}
	var secret string
	switch kind {
	case KindExigo, KindMagento:
		if identifier == "" {
			identifier = "api-" + randomString(10)
		}
		if !identifierPattern.MatchString(identifier) {
			return NewCredential{}, fmt.Errorf("%w: identifier must be 1 to 64 of A-Z a-z 0-9 . _ -", ErrInvalid)
		}
		c.Identifier = identifier
		secret = randomString(32)
	case KindIgsendLive, KindIgsendSandbox:
		prefix := "pk_live_"
		if kind == KindIgsendSandbox {
			prefix = "pk_test_"
			if owner, err = s.sandboxOf(ctx, live); err != nil {
				return NewCredential{}, err
			}
		}
		c.Identifier = prefix + randomString(24)
		secret = randomString(40)
	case KindManex:
		secret = randomString(10) // the MANEX contract fixes 10 characters
		// A MANEX key has no public half, so its identifier is a public id
		// of its own, drawn apart from the key: showing any part of a
		// 10-character key would take that part's entropy off what guards
		// it (two characters: 12 of its 59.5 bits).
		c.Identifier = manexIDPrefix + randomString(16)
	default:
		return NewCredential{}, fmt.Errorf("%w: unknown credential kind %d", ErrInvalid, kind)
	}
	c.TenantID = owner.ID
	h := hashSecret(secret)
	stored, err := s.store.CreateCredential(ctx, c, h[:])
	if errors.Is(err, store.ErrConflict) {
		return NewCredential{}, fmt.Errorf("%w: identifier %q is taken", ErrAlreadyExists, c.Identifier)
	}
	if err != nil {
		return NewCredential{}, err
	}
	return NewCredential{Credential: stored, Secret: secret}, nil
}

// ListCredentials lists a live tenant's credentials (with its sandbox keys).
func (s *Service) ListCredentials(ctx context.Context, tenantID string, showRevoked bool) ([]store.Credential, error) {
	if _, err := s.GetTenant(ctx, tenantID); err != nil {
		return nil, err
	}
	return s.store.ListCredentials(ctx, tenantID, showRevoked)
}

// RevokeCredential revokes a credential and ends its Magento sessions. It
// returns once no gateway can answer it from a cache any more (see
// watch.go), so it stops authenticating at once everywhere.
func (s *Service) RevokeCredential(ctx context.Context, id string) (store.Credential, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.Credential{}, fmt.Errorf("%w: credential %q", ErrNotFound, id)
	}
	c, seq, err := s.store.RevokeCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Credential{}, fmt.Errorf("%w: credential %s", ErrNotFound, id)
	}
	if err != nil {
		return store.Credential{}, err
	}
	return c, s.awaitWatchers(ctx, seq)
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString draws n characters uniformly from alphabet (62 symbols,
// about 5.95 bits each) with crypto/rand.
func randomString(n int) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no entropy: nothing safe to do
		}
		if buf[0] >= 248 { // 248 = 4*62: reject to keep the draw uniform
			continue
		}
		out[i] = alphabet[buf[0]%62]
		i++
	}
	return string(out)
}

func hashSecret(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// secretMatches compares in constant time whatever the inputs.
func secretMatches(presented string, stored []byte) bool {
	h := hashSecret(presented)
	return len(stored) == sha256.Size && subtle.ConstantTimeCompare(h[:], stored) == 1
}
