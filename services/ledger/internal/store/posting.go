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
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// NotifyChannel is the channel a posting transaction notifies, with
// "tenant-id:stream-position" as payload, so that stream readers re-read.
const NotifyChannel = "ledger_entries"

// Tx is one posting transaction, on a connection of its own. It takes
// two round trips to the server: Begin (BEGIN, the balance locks, the entry
// ids and the idempotency keys) and Commit (the stream counters, the
// entries, the balances, COMMIT and the readers' notification). Locks are
// always taken in this order: balance rows (in key order), then
// idempotency keys (in key order), then stream counters (in tenant order),
// so concurrent transactions never deadlock. The counters are locked only
// in Commit's round trip, which ends with COMMIT, so a tenant's posting
// transactions queue on its counter no longer than it takes the server to
// write and commit.
type Tx struct {
	conn *pgxpool.Conn
	open bool // BEGIN sent, neither COMMIT nor ROLLBACK yet
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

// Begun is what Begin found and took.
type Begun struct {
	Locked map[BalanceKey]LockedBalance // every key asked for
	IDs    []int64                      // the entry ids taken, ascending
	Now    time.Time                    // the entries' post time
	Taken  map[KeyRef]KeyRecord         // the claimed keys that were already taken
}

// Begin opens a posting transaction. In one round trip it creates the
// missing balance rows of keys and locks them all in primary-key order
// until the transaction ends; takes n entry ids from the sequence,
// ascending, with the entries' post time; and records each idempotency key
// of claims that is still free. Ids and post time are read after the locks
// (clock_timestamp, not the transaction's start), so they never decrease
// along a balance's chain, even when another replica's transaction that
// started later committed first: history's "balance at an instant" relies
// on it. A key another transaction is inserting at the same moment is
// waited for, then found taken; taken keys come back with their records
// (one more round trip, only when there are any). Claims must name
// distinct keys. On error nothing was written and the transaction is over.
func (s *Store) Begin(ctx context.Context, keys []BalanceKey, n int, claims []KeyClaim) (_ *Tx, _ Begun, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, Begun{}, fmt.Errorf("begin: %w", err)
	}
	t := &Tx{conn: conn}
	defer func() {
		if err != nil {
			t.Rollback(ctx)
		}
	}()
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
	claims = slices.Clone(claims)
	slices.SortFunc(claims, func(a, b KeyClaim) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Key, b.Key))
	})
	cTenants, cKeys, cHashes := make([]string, len(claims)), make([]string, len(claims)), make([][]byte, len(claims))
	lo, hi := make([]int32, len(claims)), make([]int32, len(claims))
	for i, c := range claims {
		cTenants[i], cKeys[i], cHashes[i] = c.TenantID, c.Key, c.RequestHash
		lo[i], hi[i] = int32(c.First+1), int32(c.First+c.Count) // SQL counts from 1
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	// Every statement of a posting transaction reaches its rows through an
	// index, one probe per array element (LATERAL and scalar subqueries,
	// index joins); planning them at each execution was measured costing
	// more than running them. Their generic plans are used from the first
	// run, and with sequential scans ruled out, a plan cached while a table
	// was small cannot keep scanning it once it has grown.
	b.Queue(`SET LOCAL plan_cache_mode = force_generic_plan`)
	b.Queue(`SET LOCAL enable_seqscan = off`)
	// Rows inserted here are held by this transaction too; inserting in key
	// order keeps that consistent with the lock order below.
	// The scalar subquery (one index probe per key, where NOT EXISTS could
	// become a scan in a generic plan) skips the rows already there without
	// spending an identity value on each; ON CONFLICT covers a concurrent
	// first posting.
	b.Queue(`INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
		SELECT k.* FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::integer[]) AS k(tenant_id, customer_id, currency, website_id)
		WHERE (SELECT b.balance_id FROM ledger.balances b
			WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
			  AND b.currency = k.currency AND b.website_id = k.website_id) IS NULL
		ORDER BY 1, 2, 3, 4
		ON CONFLICT DO NOTHING`, tenants, customers, currencies, websites)
	// The keys are sorted: the LATERAL subquery locks one row per key, in
	// the array's order, through the primary key.
	b.Queue(`SELECT k.tenant_id::text, k.customer_id, k.currency, k.website_id, b.balance_id, b.balance, b.last_entry_id
		FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::integer[]) AS k(tenant_id, customer_id, currency, website_id)
		CROSS JOIN LATERAL (
			SELECT b.balance_id, b.balance, coalesce(b.last_entry_id, 0) AS last_entry_id
			FROM ledger.balances b
			WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
			  AND b.currency = k.currency AND b.website_id = k.website_id
			FOR UPDATE
		) b`, tenants, customers, currencies, websites)
	// The ids are numbered in ascending order; a claim's entry ids are the
	// slice of them its request will post (First and Count), so the key's
	// record names the entries that Commit writes.
	b.Queue(`WITH ids AS MATERIALIZED (
			SELECT nextval('ledger.entry_ids') AS id FROM generate_series(1, $1::integer)
		), ranked AS MATERIALIZED (
			SELECT id, row_number() OVER (ORDER BY id) AS pos, clock_timestamp() AS at FROM ids
		), claimed AS (
			INSERT INTO ledger.idempotency_keys (tenant_id, key, request_hash, entry_ids)
			SELECT k.tenant_id, k.key, k.hash, ARRAY(SELECT r.id FROM ranked r WHERE r.pos BETWEEN k.lo AND k.hi ORDER BY r.pos)
			FROM unnest($2::uuid[], $3::text[], $4::bytea[], $5::integer[], $6::integer[]) AS k(tenant_id, key, hash, lo, hi)
			ORDER BY k.tenant_id, k.key
			ON CONFLICT DO NOTHING
			RETURNING tenant_id, key
		)
		SELECT r.id, r.at, '', '' FROM ranked r
		UNION ALL
		SELECT 0, NULL, c.tenant_id::text, c.key FROM claimed c`, n, cTenants, cKeys, cHashes, lo, hi)
	t.open = true // BEGIN is the batch's first statement: whatever follows, end it
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	var got Begun
	for range 3 {
		if _, err := br.Exec(); err != nil {
			return nil, Begun{}, fmt.Errorf("begin: %w", err)
		}
	}
	if _, err := br.Exec(); err != nil {
		return nil, Begun{}, fmt.Errorf("create balances: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, Begun{}, fmt.Errorf("lock balances: %w", err)
	}
	got.Locked = make(map[BalanceKey]LockedBalance, len(keys))
	var k BalanceKey
	var l LockedBalance
	if _, err := pgx.ForEachRow(rows, []any{&k.TenantID, &k.CustomerID, &k.Currency, &k.WebsiteID, &l.BalanceID, &l.Balance, &l.LastEntryID}, func() error {
		got.Locked[k] = l
		return nil
	}); err != nil {
		return nil, Begun{}, fmt.Errorf("lock balances: %w", err)
	}
	if len(got.Locked) != len(keys) {
		return nil, Begun{}, fmt.Errorf("lock balances: %d of %d rows found", len(got.Locked), len(keys))
	}
	if rows, err = br.Query(); err != nil {
		return nil, Begun{}, fmt.Errorf("allocate entry ids and claim keys: %w", err)
	}
	got.IDs = make([]int64, 0, n)
	claimed := make(map[KeyRef]bool, len(claims))
	var id int64
	var at *time.Time
	var ref KeyRef
	if _, err := pgx.ForEachRow(rows, []any{&id, &at, &ref.TenantID, &ref.Key}, func() error {
		if id == 0 {
			claimed[ref] = true
			return nil
		}
		got.IDs = append(got.IDs, id)
		if at.After(got.Now) {
			got.Now = *at
		}
		return nil
	}); err != nil {
		return nil, Begun{}, fmt.Errorf("allocate entry ids and claim keys: %w", err)
	}
	if len(got.IDs) != n {
		return nil, Begun{}, fmt.Errorf("allocate entry ids: %d of %d", len(got.IDs), n)
	}
	slices.Sort(got.IDs)
	got.Now = got.Now.UTC()
	if err := br.Close(); err != nil {
		return nil, Begun{}, fmt.Errorf("begin: %w", err)
	}
	if len(claimed) < len(claims) {
		if got.Taken, err = t.takenKeys(ctx, claims, claimed); err != nil {
			return nil, Begun{}, err
		}
	}
	return t, got, nil
}

// Rollback ends the transaction without writing; it is a no-op once the
// transaction is over. When the ROLLBACK cannot be sent, the connection is
// dropped (the server then rolls back).
func (t *Tx) Rollback(ctx context.Context) {
	if t.conn == nil {
		return
	}
	if t.open && !t.conn.Conn().IsClosed() {
		// A pool never reuses a connection left inside a transaction.
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`)
	}
	t.conn.Release()
	t.conn, t.open = nil, false
}

// KeyRef names an idempotency key.
type KeyRef struct {
	TenantID string
	Key      string
}

// KeyClaim is an idempotency key with the request that uses it and the
// entries that request will post: Count of the transaction's entry ids
// from the First (counting from 0, in ascending order).
type KeyClaim struct {
	KeyRef
	RequestHash []byte
	First       int
	Count       int
}

// KeyRecord is a stored idempotency key.
type KeyRecord struct {
	RequestHash []byte
	EntryIDs    []int64
}

// takenKeys reads the records of the claims that were not claimed. The
// claiming INSERT waited for any concurrent holder to commit, so this
// statement (a new snapshot under READ COMMITTED) sees every taken key.
func (t *Tx) takenKeys(ctx context.Context, claims []KeyClaim, claimed map[KeyRef]bool) (map[KeyRef]KeyRecord, error) {
	var tTenants, tKeys []string
	for _, c := range claims {
		if !claimed[c.KeyRef] {
			tTenants, tKeys = append(tTenants, c.TenantID), append(tKeys, c.Key)
		}
	}
	rows, err := t.conn.Query(ctx, `
		SELECT i.tenant_id::text, i.key, i.request_hash, i.entry_ids
		FROM ledger.idempotency_keys i
		JOIN unnest($1::uuid[], $2::text[]) AS k(tenant_id, key) ON i.tenant_id = k.tenant_id AND i.key = k.key`, tTenants, tKeys)
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	taken := make(map[KeyRef]KeyRecord, len(tKeys))
	var ref KeyRef
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
	es, err := queryEntries(ctx, t.conn, "read entries", `SELECT `+entryColumns+entriesFrom+`
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
	TenantID    string
	BalanceID   int64
	Balance     decimal.Decimal
	Scale       int32
	LastEntryID int64
}

// Commit writes the transaction and ends it, in one round trip: it
// advances the stream counters of the entries' tenants, inserts the entries,
// updates the balances, commits, and then notifies the stream's readers in
// every process of the tenants that have new entries. It sets each entry's
// StreamSeq. Within a tenant, entries take consecutive stream positions in
// the order given (their balance-chain order). The counter rows are locked
// last and stay locked until COMMIT, so positions become visible in commit
// order. Amounts are written at their currency's scale.
//
// The notification runs after COMMIT, in a transaction of its own without a
// synchronous WAL flush: a NOTIFY inside the posting transaction would hold
// PostgreSQL's global notify lock across the commit's flush, which
// serialises every notifying commit of the cluster. A notification lost to
// a crash only delays readers until their next poll; notified says whether
// it was sent.
//
// An error wrapping ErrCommitUnknown means the outcome is unknown (the
// connection failed); any other error means nothing was written.
func (t *Tx) Commit(ctx context.Context, entries []Entry, balances []BalanceUpdate, now time.Time) (notified bool, err error) {
	defer t.Rollback(ctx) // after COMMIT, only releases the connection
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
	bTenants, bAmounts := make([]string, m), make([]string, m)
	bIDs, bLast := make([]int64, m), make([]int64, m)
	for i, b := range balances {
		bTenants[i], bIDs[i] = b.TenantID, b.BalanceID
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
	batch.Queue(`WITH updated AS (
			UPDATE ledger.balances b
			SET balance = u.balance::numeric, last_entry_id = u.last_entry_id, update_time = $5
			FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bigint[]) AS u(tenant_id, balance_id, balance, last_entry_id)
			WHERE b.tenant_id = u.tenant_id AND b.balance_id = u.balance_id
			RETURNING 1
		)
		SELECT ledger.expect_rows('update balances', count(*), $6) FROM updated`,
		bTenants, bIDs, bAmounts, bLast, now, m)
	batch.Queue(`COMMIT`)
	// The payload is "tenant:position": the counter as committed, so
	// readers that have already read that far need not read again.
	batch.Queue(`SELECT set_config('synchronous_commit', 'off', true),
			pg_notify('`+NotifyChannel+`', s.tenant_id::text || ':' || s.last_seq)
		FROM ledger.streams s WHERE s.tenant_id = ANY($1::uuid[])`, streamTenants)
	br := t.conn.SendBatch(ctx, batch)
	defer br.Close()
	// Until COMMIT's answer, a server's refusal means the transaction is
	// rolled back (ROLLBACK ends it), and anything else leaves the outcome
	// unknown: every statement, COMMIT included, was sent at once.
	fail := func(what string, err error) (bool, error) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return false, fmt.Errorf("%s: %w", what, err)
		}
		return false, fmt.Errorf("%s: %w: %w", what, ErrCommitUnknown, err)
	}
	last := make(map[string]int64, len(streamTenants))
	for _, tenant := range streamTenants {
		var v int64
		if err := br.QueryRow().Scan(&v); err != nil {
			return fail("advance stream", err)
		}
		last[tenant] = v
	}
	for i := range entries {
		entries[i].StreamSeq = last[entries[i].TenantID] - seqs[i]
	}
	tag, err := br.Exec()
	if err != nil {
		return fail("insert entries", err)
	}
	if tag.RowsAffected() != int64(n) { // an INSERT from unnest inserts all or fails
		return false, fmt.Errorf("insert entries: %d of %d inserted", tag.RowsAffected(), n)
	}
	if _, err = br.Exec(); err != nil {
		return fail("update balances", err)
	}
	if tag, err = br.Exec(); err != nil {
		return fail("commit", err)
	}
	t.open = false
	if tag.String() != "COMMIT" {
		return false, fmt.Errorf("commit: the server answered %q", tag.String())
	}
	_, err = br.Exec()
	return err == nil && br.Close() == nil, nil
}
