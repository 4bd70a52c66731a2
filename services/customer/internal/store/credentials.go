package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Credential kinds, as stored.
const (
	KindExigo         = 1
	KindIgsendLive    = 2
	KindIgsendSandbox = 3
	KindManex         = 4
	KindMagento       = 5
)

// Credential is a row of customer.credentials, without its secret hash.
type Credential struct {
	ID         string
	TenantID   string
	Kind       int
	Identifier string
	CreateTime time.Time
	RevokeTime *time.Time
}

// Revoked reports whether the credential has been revoked.
func (c Credential) Revoked() bool { return c.RevokeTime != nil }

const credentialColumns = `credential_id::text, tenant_id::text, kind, identifier, create_time, revoke_time`

func scanCredential(row pgx.Row, extra ...any) (Credential, error) {
	var c Credential
	dest := append([]any{&c.ID, &c.TenantID, &c.Kind, &c.Identifier, &c.CreateTime, &c.RevokeTime}, extra...)
	err := row.Scan(dest...)
	return c, err
}

// CreateCredential inserts c with the hash of its secret.
func (s *Store) CreateCredential(ctx context.Context, c Credential, secretHash []byte) (Credential, error) {
	out, err := scanCredential(s.pool.QueryRow(ctx, `
		INSERT INTO customer.credentials (tenant_id, credential_id, kind, identifier, secret_hash)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING `+credentialColumns, c.TenantID, c.ID, c.Kind, c.Identifier, secretHash))
	return out, translate(err, "create credential")
}

// ListCredentials lists the credentials of tenant (and of its sandbox twin,
// whose igsend sandbox keys an operator manages with the live tenant).
func (s *Store) ListCredentials(ctx context.Context, tenantID string, showRevoked bool) ([]Credential, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+credentialColumns+` FROM customer.credentials
		WHERE tenant_id IN (SELECT $1::uuid UNION ALL SELECT tenant_id FROM customer.tenants WHERE live_tenant_id = $1)
		  AND ($2 OR revoke_time IS NULL)
		ORDER BY create_time, credential_id`, tenantID, showRevoked)
	if err != nil {
		return nil, translate(err, "list credentials")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Credential, error) { return scanCredential(r) })
	return out, translate(err, "list credentials")
}

// RevokeCredential marks a credential revoked (idempotently) and returns it
// with the seq of the change it logged. Its Magento sessions are deleted in
// the same transaction, so none outlives it.
func (s *Store) RevokeCredential(ctx context.Context, id string) (Credential, int64, error) {
	var (
		c   Credential
		seq int64
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		c, err = scanCredential(tx.QueryRow(ctx, `
			UPDATE customer.credentials SET revoke_time = coalesce(revoke_time, now())
			WHERE credential_id = $1
			RETURNING `+credentialColumns, id))
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `DELETE FROM customer.magento_sessions WHERE tenant_id = $1 AND credential_id = $2`, c.TenantID, c.ID); err != nil {
			return err
		}
		seq, err = logChange(ctx, tx, c.ID, nil)
		return err
	})
	return c, seq, translate(err, "revoke credential")
}

// FindExigo finds the Exigo credential login@company of a live tenant.
func (s *Store) FindExigo(ctx context.Context, company, login string) (Credential, []byte, error) {
	var hash []byte
	c, err := scanCredential(s.pool.QueryRow(ctx, `
		SELECT c.credential_id::text, c.tenant_id::text, c.kind, c.identifier, c.create_time, c.revoke_time, c.secret_hash
		FROM customer.credentials c JOIN customer.tenants t USING (tenant_id)
		WHERE t.company = $1 AND NOT t.sandbox AND c.kind = 1 AND c.identifier = $2`, company, login), &hash)
	return c, hash, translate(err, "find exigo credential")
}

// FindByIdentifier finds an igsend public key or Magento API user.
func (s *Store) FindByIdentifier(ctx context.Context, kinds []int, identifier string) (Credential, []byte, error) {
	var hash []byte
	c, err := scanCredential(s.pool.QueryRow(ctx, `
		SELECT `+credentialColumns+`, secret_hash FROM customer.credentials
		WHERE identifier = $1 AND kind = ANY($2)`, identifier, kinds), &hash)
	return c, hash, translate(err, "find credential")
}

// FindManex finds a MANEX key by the hash of the key itself.
func (s *Store) FindManex(ctx context.Context, secretHash []byte) (Credential, []byte, error) {
	var hash []byte
	c, err := scanCredential(s.pool.QueryRow(ctx, `
		SELECT `+credentialColumns+`, secret_hash FROM customer.credentials
		WHERE kind = 4 AND secret_hash = $1`, secretHash), &hash)
	return c, hash, translate(err, "find manex credential")
}
