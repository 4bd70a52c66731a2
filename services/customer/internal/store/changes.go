package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangesChannel is the NOTIFY channel of the credential change log: each
// change notifies it, with its seq as the payload, when it commits.
const ChangesChannel = "customer_credential_changes"

// Change is one entry of the credential change log: a revoked credential
// (CredentialID) or an ended Magento session (SessionHash).
type Change struct {
	Seq          int64
	CredentialID string
	SessionHash  []byte
}

// Acked is what recording a watcher's ack found.
type Acked struct {
	// Seq is the seq recorded as acked.
	Seq int64
	// Latest is the newest change there was as the ack was recorded.
	Latest int64
	// Changes are the first changes after Seq, in seq order.
	Changes []Change
}

// The change log and the acks are ordered against each other with a table
// lock: a writer of a change holds EXCLUSIVE on customer.credential_changes
// from before its insert to its commit; a recorder of an ack holds SHARE
// from before it reads the newest seq to its commit. So every ack is
// recorded either wholly before a change commits — and then the watcher
// was told of no change after its seq, and the row the waiting revoke reads
// already holds it — or wholly after, and then its reply names the change
// as the latest. Acks do not block each other, and a revoke blocks acks
// only for its own few milliseconds. The same lock makes seq order commit
// order, so "the changes after N" never skips one that commits late.
const (
	lockForChange = `LOCK TABLE customer.credential_changes IN EXCLUSIVE MODE`
	lockForAck    = `LOCK TABLE customer.credential_changes IN SHARE MODE`
)

// logChange appends a change in tx and notifies the watchers' replicas on
// commit. credentialID or sessionHash is empty.
func logChange(ctx context.Context, tx pgx.Tx, credentialID string, sessionHash []byte) (int64, error) {
	if _, err := tx.Exec(ctx, lockForChange); err != nil {
		return 0, err
	}
	var seq int64
	err := tx.QueryRow(ctx, `
		INSERT INTO customer.credential_changes (credential_id, session_hash)
		VALUES (nullif($1, '')::uuid, $2) RETURNING seq`, credentialID, sessionHash).Scan(&seq)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangesChannel, strconv.FormatInt(seq, 10))
	return seq, err
}

// RecordAck records that watcher has applied every change through applied
// (through the newest one when first: a new stream starts with an empty
// cache), and returns up to limit changes after it with the newest seq.
func (s *Store) RecordAck(ctx context.Context, watcherID string, applied int64, first bool, limit int) (Acked, error) {
	var a Acked
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockForAck); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM customer.credential_changes`).Scan(&a.Latest); err != nil {
			return err
		}
		a.Seq = applied
		if first {
			a.Seq = a.Latest
		}
		// ack_time is the transaction's start, after the ack was sent:
		// the watcher counts its trust from the send, so by the database's
		// clock it never trusts an ack for longer than the row shows.
		if _, err := tx.Exec(ctx, `
			INSERT INTO customer.credential_watchers (watcher_id, acked_seq, ack_time) VALUES ($1, $2, now())
			ON CONFLICT (watcher_id) DO UPDATE SET acked_seq = excluded.acked_seq, ack_time = excluded.ack_time`,
			watcherID, a.Seq); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT seq, coalesce(credential_id::text, ''), session_hash FROM customer.credential_changes
			WHERE seq > $1 ORDER BY seq LIMIT $2`, a.Seq, limit)
		if err != nil {
			return err
		}
		a.Changes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
			var c Change
			return c, r.Scan(&c.Seq, &c.CredentialID, &c.SessionHash)
		})
		return err
	})
	return a, translate(err, "record credential watcher ack")
}

// LaggingWatchers counts the watchers that have acked within live but not
// yet seq.
func (s *Store) LaggingWatchers(ctx context.Context, seq int64, live time.Duration) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM customer.credential_watchers
		WHERE acked_seq < $1 AND ack_time > now() - $2::bigint * interval '1 microsecond'`,
		seq, live.Microseconds()).Scan(&n)
	return n, translate(err, "count lagging credential watchers")
}

// PruneCredentialChanges deletes changes older than keep (but always keeps
// the newest, whose seq a new stream starts from) and watchers silent for
// longer than keep. A watcher's stream acks every few hundred
// milliseconds, so it never needs a change that old.
func (s *Store) PruneCredentialChanges(ctx context.Context, keep time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM customer.credential_changes
		WHERE change_time < now() - $1::bigint * interval '1 microsecond'
		  AND seq < (SELECT max(seq) FROM customer.credential_changes)`, keep.Microseconds())
	if err != nil {
		return 0, translate(err, "prune credential changes")
	}
	_, err = s.pool.Exec(ctx, `
		DELETE FROM customer.credential_watchers WHERE ack_time < now() - $1::bigint * interval '1 microsecond'`,
		keep.Microseconds())
	return tag.RowsAffected(), translate(err, "prune credential watchers")
}
