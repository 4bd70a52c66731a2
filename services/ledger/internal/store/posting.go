package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
)

// NotifyChannel is the channel a posting transaction notifies, with the
// tenant id as payload, so that stream readers re-read.
const NotifyChannel = "ledger_entries"

// Tx is one posting transaction. Its methods are meant to be called in the
// order they are declared; the lock order they take is always: balance rows
// (in key order), then idempotency keys (in key order), then stream counters
// (in tenant order), so concurrent transactions never deadlock.
type Tx struct {
	tx pgx.Tx
}

// InTx runs fn in a transaction and commits it. An error from fn or from a
// refused COMMIT means nothing was written; an error wrapping
// ErrCommitUnknown means the outcome is unknown.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Tx{tx: tx}); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return fmt.Errorf("commit: %w", err)
		}
		return fmt.Errorf("commit: %w: %w", ErrCommitUnknown, err)
	}
	return nil
}

// BalanceKey names a balance row.
type BalanceKey struct {
	TenantID   string
	CustomerID int32
	Currency   string
	WebsiteID  int32
}

func compareKeys(a, b BalanceKey) int {
	return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.CustomerID, b.CustomerID),
		cmp.Compare(a.Currency, b.Currency), cmp.Compare(a.WebsiteID, b.WebsiteID))
}

// LockedBalance is a balance row locked by the transaction.
type LockedBalance struct {
	BalanceID   int64
	Balance     decimal.Decimal
	LastEntryID int64 // 0 when the balance has no entries yet
}

// LockBalances creates the missing balance rows of keys and locks them all,
// in primary-key order, until the transaction ends; in the same round trip
// it takes n entry ids from the sequence, ascending, with the entries' post
// time. Both are read after the locks (clock_timestamp, not the
// transaction's start), so ids and post times never decrease along a
// balance's chain, even when another replica's transaction that started
// later committed first: history's "balance at an instant" relies on it.
func (t *Tx) LockBalances(ctx context.Context, keys []BalanceKey, n int) (map[BalanceKey]LockedBalance, []int64, time.Time, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, compareKeys)
	keys = slices.Compact(keys)
	tenants := make([]string, len(keys))
	customers := make([]int32, len(keys))
	currencies := make([]string, len(keys))
	websites := make([]int32, len(keys))
	for i, k := range keys {
		tenants[i], customers[i], currencies[i], websites[i] = k.TenantID, k.CustomerID, k.Currency, k.WebsiteID
	}
	b := &pgx.Batch{}
	// Rows inserted here are held by this transaction too; inserting in key
	// order keeps that consistent with the lock order below.
	// NOT EXISTS skips the rows already there without spending an identity
	// value on each; ON CONFLICT covers a concurrent first posting.
	b.Queue(`INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
		SELECT k.* FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::integer[]) AS k(tenant_id, customer_id, currency, website_id)
		WHERE NOT EXISTS (SELECT 1 FROM ledger.balances b
			WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
			  AND b.currency = k.currency AND b.website_id = k.website_id)
		ORDER BY 1, 2, 3, 4
		ON CONFLICT DO NOTHING`, tenants, customers, currencies, websites)
	// ORDER BY under FOR UPDATE locks the rows in that order.
	b.Queue(`SELECT b.tenant_id::text, b.customer_id, b.currency, b.website_id, b.balance_id, b.balance,
			coalesce(b.last_entry_id, 0)
		FROM ledger.balances b
		JOIN unnest($1::uuid[], $2::integer[], $3::text[], $4::integer[]) AS k(tenant_id, customer_id, currency, website_id)
			ON b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
			AND b.currency = k.currency AND b.website_id = k.website_id
		WHERE b.tenant_id = ANY($1::uuid[])
		ORDER BY b.tenant_id, b.customer_id, b.currency, b.website_id
		FOR UPDATE OF b`, tenants, customers, currencies, websites)
	b.Queue(`SELECT nextval('ledger.entry_ids'), clock_timestamp() FROM generate_series(1, $1)`, n)
	br := t.tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("create balances: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("lock balances: %w", err)
	}
	locked := make(map[BalanceKey]LockedBalance, len(keys))
	var k BalanceKey
	var l LockedBalance
	_, err = pgx.ForEachRow(rows, []any{&k.TenantID, &k.CustomerID, &k.Currency, &k.WebsiteID, &l.BalanceID, &l.Balance, &l.LastEntryID}, func() error {
		locked[k] = l
		return nil
	})
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("lock balances: %w", err)
	}
	if len(locked) != len(keys) {
		return nil, nil, time.Time{}, fmt.Errorf("lock balances: %d of %d rows found", len(locked), len(keys))
	}
	if rows, err = br.Query(); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("allocate entry ids: %w", err)
	}
	ids := make([]int64, 0, n)
	var id int64
	var now time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &now}, func() error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("allocate entry ids: %w", err)
	}
	slices.Sort(ids)
	return locked, ids, now.UTC(), br.Close()
}

// KeyRef names an idempotency key.
type KeyRef struct {
	TenantID string
	Key      string
}

// KeyClaim is an idempotency key with the request that uses it and the
// entries that request will post.
type KeyClaim struct {
	KeyRef
	RequestHash []byte
	EntryIDs    []int64
}

// KeyRecord is a stored idempotency key.
type KeyRecord struct {
	RequestHash []byte
	EntryIDs    []int64
}

// ClaimKeys records each key that is still free and returns those that
// were already taken, with their records. A key another transaction is
// inserting at the same moment is waited for, then found taken. Keys must
// be distinct.
func (t *Tx) ClaimKeys(ctx context.Context, claims []KeyClaim) (map[KeyRef]KeyRecord, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	claims = slices.Clone(claims)
	slices.SortFunc(claims, func(a, b KeyClaim) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Key, b.Key))
	})
	tenants := make([]string, len(claims))
	keys := make([]string, len(claims))
	hashes := make([][]byte, len(claims))
	lo := make([]int32, len(claims))
	hi := make([]int32, len(claims))
	var ids []int64
	for i, c := range claims {
		tenants[i], keys[i], hashes[i] = c.TenantID, c.Key, c.RequestHash
		lo[i] = int32(len(ids) + 1) // SQL arrays count from 1
		ids = append(ids, c.EntryIDs...)
		hi[i] = int32(len(ids))
	}
	rows, err := t.tx.Query(ctx, `
		INSERT INTO ledger.idempotency_keys (tenant_id, key, request_hash, entry_ids)
		SELECT k.tenant_id, k.key, k.hash, ($6::bigint[])[k.lo:k.hi]
		FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::integer[], $5::integer[]) AS k(tenant_id, key, hash, lo, hi)
		ORDER BY k.tenant_id, k.key
		ON CONFLICT DO NOTHING
		RETURNING tenant_id::text, key`, tenants, keys, hashes, lo, hi, ids)
	if err != nil {
		return nil, fmt.Errorf("claim idempotency keys: %w", err)
	}
	claimed := make(map[KeyRef]bool, len(claims))
	var ref KeyRef
	if _, err := pgx.ForEachRow(rows, []any{&ref.TenantID, &ref.Key}, func() error {
		claimed[ref] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("claim idempotency keys: %w", err)
	}
	if len(claimed) == len(claims) {
		return nil, nil
	}
	var tTenants, tKeys []string
	for _, c := range claims {
		if !claimed[c.KeyRef] {
			tTenants, tKeys = append(tTenants, c.TenantID), append(tKeys, c.Key)
		}
	}
	// The INSERT waited for any concurrent holder to commit, so this
	// statement (a new snapshot under READ COMMITTED) sees every taken key.
	rows, err = t.tx.Query(ctx, `
		SELECT i.tenant_id::text, i.key, i.request_hash, i.entry_ids
		FROM ledger.idempotency_keys i
		JOIN unnest($1::uuid[], $2::text[]) AS k(tenant_id, key) ON i.tenant_id = k.tenant_id AND i.key = k.key
		WHERE i.tenant_id = ANY($1::uuid[])`, tTenants, tKeys)
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	taken := make(map[KeyRef]KeyRecord, len(tKeys))
	var rec KeyRecord
	if _, err := pgx.ForEachRow(rows, []any{&ref.TenantID, &ref.Key, &rec.RequestHash, &rec.EntryIDs}, func() error {
		taken[ref] = rec
		rec = KeyRecord{}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	if len(taken) != len(tKeys) {
		return nil, fmt.Errorf("read idempotency keys: %d of %d taken keys found", len(taken), len(tKeys))
	}
	return taken, nil
}

// Entries returns the tenant's entries with the given ids, in the order of
// ids.
func (t *Tx) Entries(ctx context.Context, tenantID string, ids []int64) ([]Entry, error) {
	es, err := queryEntries(ctx, t.tx, "read entries", `SELECT `+entryColumns+entriesFrom+`
		WHERE e.tenant_id = $1 AND e.entry_id = ANY($2)`, tenantID, ids)
	if err != nil {
		return nil, err
	}
	pos := make(map[int64]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(pos[a.EntryID], pos[b.EntryID]) })
	if len(es) != len(ids) {
		return nil, fmt.Errorf("read entries: %d of %d found", len(es), len(ids))
	}
	return es, nil
}

// BalanceUpdate is the new state of a locked balance.
type BalanceUpdate struct {
	BalanceKey
	Balance     decimal.Decimal
	Scale       int32
	LastEntryID int64
}

// Write advances the stream counters of the entries' tenants, inserts the
// entries and updates the balances, in one round trip, and sets each
// entry's StreamSeq. Within a tenant, entries take consecutive stream
// positions in the order given (their balance-chain order). The counter
// rows are locked last (after the balances and the idempotency keys) and
// stay locked until COMMIT, so positions become visible in commit order. Amounts
// are written at their currency's scale. The stream's readers are notified
// after COMMIT (Notify), not here.
func (t *Tx) Write(ctx context.Context, entries []Entry, balances []BalanceUpdate, now time.Time) error {
	n := len(entries)
	tenants, currencies, kinds := make([]string, n), make([]string, n), make([]string, n)
	deltas, afters, keys, comments := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ids, seqs, balanceIDs := make([]int64, n), make([]int64, n), make([]int64, n)
	customers, websites := make([]int32, n), make([]int32, n)
	actions, notify := make([]int16, n), make([]bool, n)
	// fromEnd[i] is how many of its tenant's entries come after entry i:
	// its position is the advanced counter minus that.
	count := map[string]int64{}
	for _, e := range entries {
		count[e.TenantID]++
	}
	streamTenants := make([]string, 0, len(count))
	for tenant := range count {
		streamTenants = append(streamTenants, tenant)
	}
	slices.Sort(streamTenants) // canonical uuid text sorts as uuid does: one lock order
	seen := map[string]int64{}
	for i, e := range entries {
		seen[e.TenantID]++
		seqs[i] = count[e.TenantID] - seen[e.TenantID] // from the end, for now
		tenants[i], ids[i], balanceIDs[i] = e.TenantID, e.EntryID, e.BalanceID
		customers[i], currencies[i], websites[i], kinds[i], actions[i] = e.CustomerID, e.Currency, e.WebsiteID, e.Kind, int16(e.Action)
		deltas[i], afters[i] = e.Delta.StringFixed(e.Scale), e.BalanceAfter.StringFixed(e.Scale)
		keys[i], comments[i], notify[i] = e.IdempotencyKey, e.Comment, e.NotifyCustomer
	}
	m := len(balances)
	bTenants, bCurrencies, bAmounts := make([]string, m), make([]string, m), make([]string, m)
	bCustomers, bWebsites := make([]int32, m), make([]int32, m)
	bLast := make([]int64, m)
	for i, b := range balances {
		bTenants[i], bCustomers[i], bCurrencies[i], bWebsites[i] = b.TenantID, b.CustomerID, b.Currency, b.WebsiteID
		bAmounts[i], bLast[i] = b.Balance.StringFixed(b.Scale), b.LastEntryID
	}
	batch := &pgx.Batch{}
	for _, tenant := range streamTenants {
		batch.Queue(`UPDATE ledger.streams SET last_seq = last_seq + $2 WHERE tenant_id = $1 RETURNING last_seq`,
			tenant, count[tenant])
	}
	batch.Queue(`INSERT INTO ledger.entries (tenant_id, entry_id, stream_seq, balance_id, customer_id, currency,
			website_id, kind, action, delta, balance_after, idempotency_key, comment, notify_customer, post_time)
		SELECT e.tenant_id, e.entry_id,
			(SELECT s.last_seq FROM ledger.streams s WHERE s.tenant_id = e.tenant_id) - e.from_end,
			e.balance_id, e.customer_id, e.currency,
			e.website_id, e.kind, e.action, e.delta::numeric, e.balance_after::numeric, e.idempotency_key,
			e.comment, e.notify_customer, $15
		FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::integer[], $6::text[],
			$7::integer[], $8::text[], $9::smallint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::boolean[])
			AS e(tenant_id, entry_id, from_end, balance_id, customer_id, currency,
			website_id, kind, action, delta, balance_after, idempotency_key, comment, notify_customer)`,
		tenants, ids, seqs, balanceIDs, customers, currencies, websites, kinds, actions, deltas, afters, keys, comments, notify, now)
	batch.Queue(`UPDATE ledger.balances b
		SET balance = u.balance::numeric, last_entry_id = u.last_entry_id, update_time = $7
		FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::integer[], $5::text[], $6::bigint[])
			AS u(tenant_id, customer_id, currency, website_id, balance, last_entry_id)
		WHERE b.tenant_id = u.tenant_id AND b.customer_id = u.customer_id
		  AND b.currency = u.currency AND b.website_id = u.website_id`,
		bTenants, bCustomers, bCurrencies, bWebsites, bAmounts, bLast, now)
	br := t.tx.SendBatch(ctx, batch)
	defer br.Close()
	last := make(map[string]int64, len(streamTenants))
	for _, tenant := range streamTenants {
		var v int64
		if err := br.QueryRow().Scan(&v); err != nil {
			return fmt.Errorf("advance stream: %w", err)
		}
		last[tenant] = v
	}
	for i := range entries {
		entries[i].StreamSeq = last[entries[i].TenantID] - seqs[i]
	}
	tag, err := br.Exec()
	if err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("insert entries: %d of %d inserted", tag.RowsAffected(), n)
	}
	if tag, err = br.Exec(); err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	if tag.RowsAffected() != int64(m) {
		return fmt.Errorf("update balances: %d of %d updated", tag.RowsAffected(), m)
	}
	return br.Close()
}

// Notify tells the stream's readers in every process that tenants have
// new entries. It runs after COMMIT in a transaction of its own: a NOTIFY
// inside the posting transaction holds PostgreSQL's global notify lock
// across the commit's WAL flush, which serialises every notifying commit
// of the cluster. A notification lost to a crash right after COMMIT only
// delays readers until their next poll.
func (s *Store) Notify(ctx context.Context, tenants []string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify('`+NotifyChannel+`', t) FROM unnest($1::text[]) AS t`, tenants)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
