package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

var manexID = regexp.MustCompile(`^mx_[A-Za-z0-9]{16}$`)

// Each migration runs on the data of the versions before it, and after the
// last one the tenants, credentials, customers, extended records,
// counters and Magento sessions are all there and the code reads them.
func TestMigrationsKeepData(t *testing.T) {
	t.Parallel()
	const (
		live    = "7c0ffee0-0000-4000-8000-000000000001"
		sandbox = "7c0ffee0-0000-4000-8000-000000000002"
		exigo   = "7c0ffee0-0000-4000-8000-0000000000e1"
		magento = "7c0ffee0-0000-4000-8000-0000000000f1"
	)
	secret := sha256.Sum256([]byte("secret"))
	manexKey := sha256.Sum256([]byte("MANEXKEY01"))
	manexKey2 := sha256.Sum256([]byte("MAEXKEY002"))
	session := sha256.Sum256([]byte("0123456789abcdef0123456789abcdef"))
	pool := pgtest.MigrateStepwise(t, "customer", migrations.FS, map[int64]func(context.Context, *pgxpool.Pool) error{
		// A live tenant with its sandbox twin, and a credential of every
		// kind, one of them revoked.
		1: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `
				WITH l AS (
					INSERT INTO customer.tenants (tenant_id, name, company, sandbox)
					VALUES ($1, 'Acme', 'acme', false) RETURNING tenant_id
				), s AS (
					INSERT INTO customer.tenants (tenant_id, name, company, sandbox, live_tenant_id)
					SELECT $2, 'Acme (sandbox)', 'acme', true, tenant_id FROM l RETURNING tenant_id
				)
				INSERT INTO customer.credentials (tenant_id, credential_id, kind, identifier, secret_hash, revoke_time)
				SELECT * FROM (VALUES
					($1::uuid, $3::uuid, 1::smallint, 'admin', $4::bytea, NULL::timestamptz),
					($1, gen_random_uuid(), 2, 'pub-live', $4, NULL),
					($1, gen_random_uuid(), 4, '', $5, NULL),
					($1, gen_random_uuid(), 5, 'magento-api', $4, now())
				) v
				UNION ALL
				SELECT tenant_id, gen_random_uuid(), 3, 'pub-sandbox', $4, NULL FROM s`,
				live, sandbox, exigo, secret[:], manexKey[:])
			return err
		},
		// Two customers, one with a key and money fields set, an extended
		// record, and the counters that handed out their ids.
		2: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `
				WITH c AS (
					INSERT INTO customer.customers (tenant_id, customer_id, customer_key, customer_number, name, status,
						credit_limit, ar_high_balance, labor, account_date)
					VALUES ($1, 1, 'ACME-1', '0000000001', 'First Customer', 1, 1500.2500, 99.5, true, '2012-04-06T13:44:58Z'),
					       ($1, 2, NULL, '0000000002', 'Second', 3, 0, 0, false, NULL)
				), x AS (
					INSERT INTO customer.customer_extended (tenant_id, customer_id, extended_group_id, customer_extended_id, field1, field30)
					VALUES ($1, 1, 5, 1, 'one', 'thirty')
				)
				INSERT INTO customer.counters (tenant_id, name, value) VALUES ($1, 'customer_id', 2), ($1, 'customer_number', 2)`,
				live)
			return err
		},
		// A Magento credential with a live session.
		3: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `
				WITH c AS (
					INSERT INTO customer.credentials (tenant_id, credential_id, kind, identifier, secret_hash)
					VALUES ($1, $2, 5, 'magento-live', $3) RETURNING tenant_id, credential_id
				)
				INSERT INTO customer.magento_sessions (tenant_id, session_hash, credential_id)
				SELECT tenant_id, $4, credential_id FROM c`,
				live, magento, secret[:], session[:])
			return err
		},
		// A revocation in the change log and a watcher that acked it; a
		// MANEX key whose identifier is its first two characters, as the
		// code of this version wrote it.
		4: func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, `
				WITH c AS (INSERT INTO customer.credential_changes (credential_id) VALUES ($1) RETURNING seq),
				m AS (INSERT INTO customer.credentials (tenant_id, credential_id, kind, identifier, secret_hash)
					VALUES ($2, gen_random_uuid(), 4, 'MA', $3))
				INSERT INTO customer.credential_watchers (watcher_id, acked_seq, ack_time)
				SELECT gen_random_uuid(), seq, now() FROM c`, exigo, live, manexKey2[:])
			return err
		},
		5: nil,
	})
	ctx := t.Context()
	s := store.New(pool)

	if tw, err := s.SandboxOf(ctx, live); err != nil || tw.ID != sandbox || !tw.Sandbox || tw.Company != "acme" {
		t.Errorf("sandbox of the live tenant = %+v, %v", tw, err)
	}
	c, hash, err := s.FindExigo(ctx, "acme", "admin")
	if err != nil || c.ID != exigo || !bytes.Equal(hash, secret[:]) {
		t.Errorf("exigo credential = %+v, %x, %v", c, hash, err)
	}
	if c, _, err := s.FindManex(ctx, manexKey[:]); err != nil || c.TenantID != live {
		t.Errorf("manex credential = %+v, %v", c, err)
	}
	if c, _, err := s.FindByIdentifier(ctx, []int{store.KindMagento}, "magento-api"); err != nil || !c.Revoked() {
		t.Errorf("magento credential = %+v, %v; want it revoked", c, err)
	}
	if cs, err := s.ListCredentials(ctx, live, true); err != nil || len(cs) != 7 {
		t.Errorf("%d credentials of the tenant and its twin (%v), want 7", len(cs), err)
	}
	// MANEX identifiers no longer show any of the key: each is a public id
	// of its own.
	var ids []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(identifier) FROM customer.credentials WHERE kind = 4`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] == ids[1] || !manexID.MatchString(ids[0]) || !manexID.MatchString(ids[1]) {
		t.Errorf("MANEX identifiers = %q, want two distinct public ids", ids)
	}
	if c, _, err := s.FindManex(ctx, manexKey2[:]); err != nil || c.TenantID != live || !manexID.MatchString(c.Identifier) {
		t.Errorf("second manex credential = %+v, %v", c, err)
	}
	if m, err := s.FindMagentoSession(ctx, session[:], time.Hour); err != nil || m.TenantID != live || m.CredentialID != magento {
		t.Errorf("magento session = %+v, %v", m, err)
	}
	if a, err := s.RecordAck(ctx, "7c0ffee0-0000-4000-8000-0000000000a1", 0, false, 10); err != nil ||
		len(a.Changes) != 1 || a.Changes[0].CredentialID != exigo || a.Latest != a.Changes[0].Seq {
		t.Errorf("changes after 0 = %+v, %v; want the one revocation", a, err)
	}

	var got string
	if err := pool.QueryRow(ctx, `
		SELECT string_agg(concat_ws('|', customer_id, coalesce(customer_key, '-'), customer_number, name, status,
			credit_limit, ar_high_balance, labor, coalesce(to_char(account_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-'), version, modify_time IS NULL), ';' ORDER BY customer_id)
		FROM customer.customers WHERE tenant_id = $1`, live).Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := "1|ACME-1|0000000001|First Customer|1|1500.2500|99.5000|t|2012-04-06 13:44:58|1|t;" +
		"2|-|0000000002|Second|3|0.0000|0.0000|f|-|1|t"
	if got != want {
		t.Errorf("customers:\n got %s\nwant %s", got, want)
	}
	if err := pool.QueryRow(ctx, `
		SELECT concat_ws('|', x.field1, x.field2, x.field30, x.version, (SELECT string_agg(name || '=' || value, ',' ORDER BY name)
			FROM customer.counters WHERE tenant_id = $1))
		FROM customer.customer_extended x WHERE x.tenant_id = $1`, live).Scan(&got); err != nil || got != "one||thirty|1|customer_id=2,customer_number=2" {
		t.Errorf("extended record and counters = %q (%v)", got, err)
	}
}
