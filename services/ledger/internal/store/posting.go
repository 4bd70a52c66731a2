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

// NotifyChannel is the channel a posting transaction notifies, with
// "tenant-id:stream-position" as payload, so that stream readers re-read.
const NotifyChannel = "ledger_entries"

// BalanceKey names a balance row.
type BalanceKey struct {
	TenantID   string
	CustomerID int32
	Currency   string
	WebsiteID  int32
}

// KeyRef names an idempotency key.
type KeyRef struct {
	TenantID string
	Key      string
}

// KeyRecord is a stored idempotency key.
type KeyRecord struct {
	RequestHash []byte
	EntryIDs    []int64
}

// GroupPosting is one posting of a group: Req numbers its request within
// the group (from 0); a request's postings are consecutive, requests in
// queue order.
type GroupPosting struct {
	Req int
	BalanceKey
	Kind           string
	Action         int32
	Delta          decimal.Decimal
	Scale          int32
	Comment        string
	NotifyCustomer bool
	Key            string // the request's idempotency key, "" for none
}

// GroupClaim is the idempotency key of a request of the group, with the
// hash of that request. Keys must be distinct.
type GroupClaim struct {
	Req         int
	Key         string
	RequestHash []byte
}

// Posted is an entry a group wrote.
type Posted struct {
	Pos          int // index of its posting in the group
	EntryID      int64
	StreamSeq    int64
	BalanceID    int64
	BalanceAfter decimal.Decimal
	PostTime     time.Time
}

// Taken is a request of the group whose idempotency key was already
// taken, with the key's record; it wrote nothing.
type Taken struct {
	Req int
	KeyRecord
}

// PostGroup writes a group of postings in one transaction and one round
// trip to the server: BEGIN, ledger.post_group (which locks the balances,
// claims the idempotency keys, advances the stream counters, inserts the
// entries and updates the balances, in that lock order), COMMIT, then the
// stream readers' notification. The balance rows and a tenant's stream
// counter are therefore locked only while the server works.
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
func (s *Store) PostGroup(ctx context.Context, postings []GroupPosting, claims []GroupClaim) (posted []Posted, taken []Taken, notified bool, err error) {
	group, err := groupRows(postings, claims)
	if err != nil {
		return nil, nil, false, fmt.Errorf("post: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	// Every statement of ledger.post_group reaches its rows through an
	// index, one probe per array element; planning them at each execution
	// was measured costing more than running them. Their generic plans are
	// used from the first run, and with sequential scans ruled out, a plan
	// cached while a table was small cannot keep scanning it once grown.
	// One statement without parameters sets both: it is planned once.
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)`)
	b.Queue(`SELECT kind, item, entry_id, stream_seq, balance_id, balance_after, post_time, request_hash, entry_ids
		FROM ledger.post_group($1::ledger.group_posting[], $2::ledger.balance_key[], $3::ledger.key_claim[])`,
		group.postings, group.balances, group.claims)
	b.Queue(`COMMIT`)
	// The payload is "tenant:position": the counter as committed, so
	// readers that have already read that far need not read again. The
	// notifying statement has a parameter, and in the default plan mode it
	// was planned afresh at every posting transaction (measured: 5% of the
	// server's CPU at 8 postings per transaction); its generic plan is as
	// good, one primary-key probe per tenant.
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`)
	b.Queue(`SELECT pg_notify('`+NotifyChannel+`', s.tenant_id::text || ':' || s.last_seq)
		FROM ledger.streams s WHERE s.tenant_id = ANY($1::uuid[])`, group.tenants)

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("post: %w", err)
	}
	defer conn.Release() // a connection left inside a transaction is closed, never reused
	if err := loadRowTypes(ctx, conn.Conn()); err != nil {
		return nil, nil, false, fmt.Errorf("post: %w", err)
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	// Until COMMIT's answer, a server's refusal means the transaction is
	// rolled back (the ROLLBACK ends it), and anything else leaves the
	// outcome unknown: every statement, COMMIT included, went out at once.
	fail := func(what string, err error) ([]Posted, []Taken, bool, error) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			_ = br.Close()
			_, _ = conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`)
			return nil, nil, false, fmt.Errorf("%s: %w", what, err)
		}
		return nil, nil, false, fmt.Errorf("%s: %w: %w", what, ErrCommitUnknown, err)
	}
	for range 2 { // BEGIN, the settings
		if _, err := br.Exec(); err != nil {
			return fail("begin", err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		return fail("post", err)
	}
	var kind int16
	var item int32
	var rec KeyRecord
	var entryID, streamSeq, balanceID *int64
	var after decimal.NullDecimal
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&kind, &item, &entryID, &streamSeq, &balanceID, &after, &at, &rec.RequestHash, &rec.EntryIDs}, func() error {
		if kind == 1 {
			taken = append(taken, Taken{Req: int(item) - 1, KeyRecord: rec})
			rec = KeyRecord{}
			return nil
		}
		pos := int(item) - 1
		if pos < 0 || pos >= len(postings) || entryID == nil || streamSeq == nil || balanceID == nil || !after.Valid || at == nil {
			return fmt.Errorf("a malformed entry row (posting %d)", item)
		}
		posted = append(posted, Posted{Pos: pos, EntryID: *entryID, StreamSeq: *streamSeq,
			BalanceID: *balanceID, BalanceAfter: after.Decimal, PostTime: at.UTC()})
		return nil
	})
	if err != nil {
		return fail("post", err)
	}
	tag, err := br.Exec()
	if err != nil {
		return fail("commit", err)
	}
	if tag.String() != "COMMIT" {
		return nil, nil, false, fmt.Errorf("commit: the server answered %q", tag.String())
	}
	_, err = br.Exec() // the notification's settings
	if err == nil {
		_, err = br.Exec() // the notification
	}
	return posted, taken, err == nil && br.Close() == nil, nil
}

// Entries returns the tenant's entries with the given ids, in the order of
// ids.
func (s *Store) Entries(ctx context.Context, tenantID string, ids []int64) ([]Entry, error) {
	es, err := queryEntries(ctx, s.pool, "read entries", `SELECT `+entryColumns+entriesFrom+`
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
