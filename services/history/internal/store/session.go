package store

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// Session is a database connection of its own, outside the pool, for state
// that lives as long as a session does: advisory locks and LISTEN. It is not
// safe for concurrent use.
type Session struct {
	conn *pgx.Conn
}

// OpenSession connects a session with the pool's settings.
func (s *Store) OpenSession(ctx context.Context) (*Session, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return &Session{conn: conn}, nil
}

// Close ends the session, releasing its locks.
func (s *Session) Close(ctx context.Context) error { return s.conn.Close(ctx) }

// Ping checks the session is alive; its locks are held exactly while it is.
func (s *Session) Ping(ctx context.Context) error {
	return wrap(s.conn.Ping(ctx), "ping session")
}

// projectorLockKey is the advisory lock of one tenant's projection. Two
// tenants whose keys collide share a lock: harmless, since a replica that
// holds it projects both (advisory locks are re-entrant within a session).
func projectorLockKey(tenantID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("abacus-history-projection:" + tenantID))
	return int64(h.Sum64() >> 1)
}

// TryLockTenant takes the tenant's projection lock for this session when no
// other session holds it.
func (s *Session) TryLockTenant(ctx context.Context, tenantID string) (bool, error) {
	var ok bool
	err := s.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, projectorLockKey(tenantID)).Scan(&ok)
	return ok, wrap(err, "lock tenant projection")
}

// UnlockTenant releases a lock TryLockTenant took.
func (s *Session) UnlockTenant(ctx context.Context, tenantID string) error {
	_, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, projectorLockKey(tenantID))
	return wrap(err, "unlock tenant projection")
}
