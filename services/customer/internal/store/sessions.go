package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MagentoSession is a live Magento SOAP session as FindMagentoSession finds
// it.
type MagentoSession struct {
	TenantID     string
	CredentialID string
	LastUseTime  time.Time
	// Now is the database's clock when the session was found, the clock
	// LastUseTime was set by.
	Now time.Time
}

// CreateMagentoSession stores the hash of a new session id for a credential.
// The credential must still be unrevoked as the insert runs (ErrNotFound
// otherwise), so a login racing a revoke cannot outlive it.
func (s *Store) CreateMagentoSession(ctx context.Context, tenantID, credentialID string, sessionHash []byte) error {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO customer.magento_sessions (tenant_id, session_hash, credential_id)
		SELECT tenant_id, $3, credential_id FROM customer.credentials
		WHERE tenant_id = $1 AND credential_id = $2 AND revoke_time IS NULL`, tenantID, credentialID, sessionHash)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate(err, "create magento session")
}

// FindMagentoSession finds the session whose id hashes to sessionHash if it
// is live: used within ttl and its credential not revoked. Any other
// session is ErrNotFound.
func (s *Store) FindMagentoSession(ctx context.Context, sessionHash []byte, ttl time.Duration) (MagentoSession, error) {
	var m MagentoSession
	err := s.pool.QueryRow(ctx, `
		SELECT s.tenant_id::text, s.credential_id::text, s.last_use_time, now()
		FROM customer.magento_sessions s JOIN customer.credentials c USING (tenant_id, credential_id)
		WHERE s.session_hash = $1 AND c.revoke_time IS NULL
		  AND s.last_use_time > now() - $2::bigint * interval '1 microsecond'`,
		sessionHash, ttl.Microseconds()).Scan(&m.TenantID, &m.CredentialID, &m.LastUseTime, &m.Now)
	return m, translate(err, "find magento session")
}

// TouchMagentoSession restarts a live session's idle time.
//
// The touch commits with synchronous_commit off: it does not wait for its
// WAL to reach disk. Callers touch a session only once in a small fraction
// of the TTL, not on every use, so that SOAP reads are not each a durable
// write; a touch lost in a crash only shortens the session by that fraction.
func (s *Store) TouchMagentoSession(ctx context.Context, tenantID string, sessionHash []byte, ttl time.Duration) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		// The idleness test again: a session that expired since it was
		// found stays expired.
		_, err := tx.Exec(ctx, `
			UPDATE customer.magento_sessions SET last_use_time = greatest(last_use_time, now())
			WHERE tenant_id = $1 AND session_hash = $2
			  AND last_use_time > now() - $3::bigint * interval '1 microsecond'`,
			tenantID, sessionHash, ttl.Microseconds())
		return err
	})
	return translate(err, "touch magento session")
}

// DeleteMagentoSession deletes the session whose id hashes to sessionHash,
// if there is one, and returns the seq of the change it logged (0 when
// there was none: nothing can have cached it).
func (s *Store) DeleteMagentoSession(ctx context.Context, sessionHash []byte) (int64, error) {
	var seq int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM customer.magento_sessions WHERE session_hash = $1`, sessionHash)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		seq, err = logChange(ctx, tx, "", sessionHash)
		return err
	})
	return seq, translate(err, "delete magento session")
}

// DeleteExpiredMagentoSessions deletes up to limit sessions idle for ttl or
// longer and returns how many it deleted. Rows another replica's janitor is
// deleting are skipped, not waited for.
func (s *Store) DeleteExpiredMagentoSessions(ctx context.Context, ttl time.Duration, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("delete expired magento sessions: limit %d", limit)
	}
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM customer.magento_sessions
		WHERE (tenant_id, session_hash) IN (
			SELECT tenant_id, session_hash FROM customer.magento_sessions
			WHERE last_use_time <= now() - $1::bigint * interval '1 microsecond'
			LIMIT $2 FOR UPDATE SKIP LOCKED)`, ttl.Microseconds(), limit)
	return tag.RowsAffected(), translate(err, "delete expired magento sessions")
}
