package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
)

// MagentoSession is a session a Magento SOAP login opened.
type MagentoSession struct {
	// ID is the session id, shown once: 32 lowercase hex characters.
	ID string
	Principal
}

// expiredBatch bounds how many expired sessions one janitor statement
// deletes, so that no statement holds many row locks or runs long.
const expiredBatch = 1000

// validSessionID reports whether id has the form of a session id: 32
// lowercase hex characters. Anything else is refused before the database
// is asked.
func validSessionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newSessionID draws 128 bits from crypto/rand (whose Read never fails
// since Go 1.24).
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sessionTouchEvery is how stale a session's last use may grow before a use
// records a new one: a sixtieth of the TTL, at least a second (but under
// half of a TTL shorter than two seconds, so that use keeps it alive).
func sessionTouchEvery(ttl time.Duration) time.Duration {
	if every := ttl / 60; every >= time.Second {
		return every
	}
	return min(time.Second, ttl/2)
}

// StartMagentoSession verifies a Magento credential exactly as Authenticate
// does and opens a session for it.
func (s *Service) StartMagentoSession(ctx context.Context, c PairCredentials) (MagentoSession, error) {
	p, err := s.Authenticate(ctx, Credentials{Magento: &c})
	if err != nil {
		return MagentoSession{}, err
	}
	id := newSessionID()
	h := hashSecret(id)
	err = s.store.CreateMagentoSession(ctx, p.TenantID, p.CredentialID, h[:])
	if errors.Is(err, store.ErrNotFound) { // revoked since it was verified
		return MagentoSession{}, ErrUnauthenticated
	}
	if err != nil {
		return MagentoSession{}, err
	}
	return MagentoSession{ID: id, Principal: p}, nil
}

// EndMagentoSession ends a session. Ending an unknown, expired or ended one
// succeeds; an id that cannot be a session id is ErrInvalid.
func (s *Service) EndMagentoSession(ctx context.Context, id string) error {
	if !validSessionID(id) {
		return fmt.Errorf("%w: session_id must be 32 lowercase hexadecimal characters", ErrInvalid)
	}
	h := hashSecret(id)
	seq, err := s.store.DeleteMagentoSession(ctx, h[:])
	if err != nil {
		return err
	}
	return s.awaitWatchers(ctx, seq)
}

// authenticateSession resolves a live session to its principal and, once
// in a while (see sessionTouchEvery), restarts its idle time.
func (s *Service) authenticateSession(ctx context.Context, id string) (Principal, error) {
	if !validSessionID(id) {
		return Principal{}, ErrUnauthenticated
	}
	h := hashSecret(id)
	m, err := s.store.FindMagentoSession(ctx, h[:], s.sessionTTL)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	every, idle := sessionTouchEvery(s.sessionTTL), m.Now.Sub(m.LastUseTime)
	if idle >= every {
		if err := s.store.TouchMagentoSession(ctx, m.TenantID, h[:], s.sessionTTL); err != nil {
			return Principal{}, err
		}
		idle = 0
	}
	return Principal{TenantID: m.TenantID, CredentialID: m.CredentialID, Kind: KindMagento,
		CacheFor: sessionCacheFor(s.cacheFor, every, idle)}, nil
}

// sessionCacheFor is how long a gateway may reuse a session's answer: until
// its idle time is next due to be restarted (so uses keep it alive as they
// do uncached), which is always before it would expire unused, and never
// longer than any answer.
func sessionCacheFor(cacheFor, touchEvery, idle time.Duration) time.Duration {
	return max(0, min(cacheFor, touchEvery-idle))
}

// DeleteExpiredMagentoSessions deletes every session idle past the TTL, in
// bounded batches, and returns how many it deleted. Expired sessions
// already fail to authenticate; this only reclaims their rows.
func (s *Service) DeleteExpiredMagentoSessions(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := s.store.DeleteExpiredMagentoSessions(ctx, s.sessionTTL, expiredBatch)
		total += n
		if err != nil || n < expiredBatch {
			return total, err
		}
	}
}

// RunSessionJanitor deletes expired sessions, and credential changes no
// watcher needs any more, every interval until ctx ends, logging what it
// deleted. Every replica may run one.
func (s *Service) RunSessionJanitor(ctx context.Context, log *slog.Logger, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.pruneCredentialChanges(ctx, log)
		n, err := s.DeleteExpiredMagentoSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "delete expired magento sessions", "error", err, "deleted", n)
		case n > 0:
			log.InfoContext(ctx, "expired magento sessions deleted", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
