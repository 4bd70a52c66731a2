package ledger

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store"
)

// These tests hand groups to the committer directly (no Run), so what is
// in a group is decided by the test, not by timing.

func answers(t *testing.T, reqs []*request) []outcome {
	t.Helper()
	out := make([]outcome, len(reqs))
	for i, r := range reqs {
		select {
		case out[i] = <-r.done:
		default:
			t.Fatalf("request %d has no answer", i)
		}
	}
	return out
}

func TestGroupSharesOneTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, false)
	var group []*request
	for i := range 200 {
		group = append(group, f.prepare(t, f.a, "", false, payment(1, "USD", fmt.Sprint(i+1))))
	}
	// And a second tenant in the same group.
	group = append(group, f.prepare(t, f.b, "", false, payment(1, "USD", "5")))
	if next := f.svc.committer.process(t.Context(), group); len(next) != 0 {
		t.Fatalf("%d requests left over", len(next))
	}
	want := 0
	for i, o := range answers(t, group[:200]) {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
		want += i + 1
		e := o.res.Entries[0]
		if !e.BalanceAfter.Equal(dec(fmt.Sprint(want))) || e.StreamSeq != int64(i+1) {
			t.Fatalf("request %d: balance after %s, stream seq %d; want %d, %d", i, e.BalanceAfter, e.StreamSeq, want, i+1)
		}
	}
	if o := answers(t, group[200:])[0]; o.err != nil || o.res.Entries[0].StreamSeq != 1 {
		t.Errorf("tenant b: %+v, want its own stream starting at 1", o)
	}
	if st := f.svc.Stats(); st.Transactions != 1 || st.Postings != 201 {
		t.Errorf("stats = %+v, want 201 postings in 1 transaction", st)
	}
}

func TestGroupRepeatedKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, false)
	ctx := t.Context()
	group := []*request{
		f.prepare(t, f.a, "k1", false, payment(1, "USD", "10")),
		f.prepare(t, f.a, "k1", false, payment(1, "USD", "10.00")), // the same: a replay
		f.prepare(t, f.a, "k1", false, payment(1, "USD", "11")),    // another request
		f.prepare(t, f.b, "k1", false, payment(1, "USD", "12")),    // another tenant's key
		f.prepare(t, f.a, "k2", true, payment(2, "USD", "1"), payment(3, "USD", "1")),
	}
	f.svc.committer.process(ctx, group)
	out := answers(t, group)
	if out[0].err != nil || out[0].res.Replayed {
		t.Fatalf("first: %+v", out[0])
	}
	if out[1].err != nil || !out[1].res.Replayed {
		t.Fatalf("repeat: %+v", out[1])
	}
	out[1].res.Replayed = false
	if diff := cmp.Diff(out[0].res, out[1].res, decimalEqual); diff != "" {
		t.Errorf("repeat differs from first (-first +repeat):\n%s", diff)
	}
	if !errors.Is(out[2].err, ErrKeyReused) {
		t.Errorf("other request with k1: %v", out[2].err)
	}
	if out[3].err != nil || out[4].err != nil || len(out[4].res.Entries) != 2 {
		t.Errorf("tenant b k1: %v; k2 batch: %+v", out[3].err, out[4])
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != 4 {
		t.Errorf("%d entries, want 4", n)
	}

	// In a later group the keys are found in the database.
	later := []*request{
		f.prepare(t, f.a, "k1", false, payment(1, "USD", "10")),
		f.prepare(t, f.a, "k1", false, payment(1, "USD", "13")),
		f.prepare(t, f.a, "k2", true, payment(2, "USD", "1"), payment(3, "USD", "1")),
	}
	f.svc.committer.process(ctx, later)
	out2 := answers(t, later)
	if out2[0].err != nil || !out2[0].res.Replayed || out2[0].res.Entries[0].ID != out[0].res.Entries[0].ID {
		t.Errorf("replay from the database: %+v", out2[0])
	}
	if !errors.Is(out2[1].err, ErrKeyReused) {
		t.Errorf("k1 with another request: %v", out2[1].err)
	}
	if out2[2].err != nil || !out2[2].res.Replayed || len(out2[2].res.Entries) != 2 {
		t.Errorf("batch replay: %+v", out2[2])
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != 4 {
		t.Errorf("%d entries after replays, want 4", n)
	}
}

// poison makes the database refuse any entry commented "poison", as a
// constraint would: only the request carrying it may fail.
func poison(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.pool.Exec(t.Context(), `
		CREATE FUNCTION ledger.poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.comment = 'poison' THEN RAISE EXCEPTION 'poisoned entry' USING ERRCODE = 'check_violation'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER poison BEFORE INSERT ON ledger.entries FOR EACH ROW EXECUTE FUNCTION ledger.poison();`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestGroupSplitsAroundARefusedPosting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, false)
	poison(t, f)
	var group []*request
	for i := range 10 {
		p := payment(1+int32(i%3), "USD", "1")
		if i == 6 {
			p.Comment = "poison"
		}
		group = append(group, f.prepare(t, f.a, fmt.Sprint("key-", i), false, p))
	}
	// A repeat of the poisoned request's key waits for it, then goes to the
	// next group, since its leader wrote nothing.
	repeat := f.prepare(t, f.a, "key-6", false, group[6].postings[0].Posting)
	group = append(group, repeat)
	next := f.svc.committer.process(t.Context(), group)
	if len(next) != 1 || next[0] != repeat {
		t.Fatalf("left over: %v, want the repeat of the failed request", next)
	}
	for i, o := range answers(t, group[:10]) {
		switch {
		case i == 6 && (o.err == nil || !store.Refused(o.err)):
			t.Errorf("poisoned request: %v, want the database's refusal", o.err)
		case i != 6 && o.err != nil:
			t.Errorf("request %d failed with the poisoned one: %v", i, o.err)
		}
	}
	if st := f.svc.Stats(); st.Splits == 0 {
		t.Error("no split recorded")
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.entries"); n != 9 {
		t.Errorf("%d entries, want 9", n)
	}
	if n := count(t, f.pool, "SELECT count(*) FROM ledger.idempotency_keys WHERE key = 'key-6'"); n != 0 {
		t.Error("the refused request's key was kept")
	}
	checkChains(t, f, f.a)
}

// checkChains checks in the database that each of the tenant's balances
// equals the sum of its entries, that each entry's balance after is the
// previous one's plus its delta in stream order, and that stream positions
// are 1..n without gaps.
func checkChains(t *testing.T, f *fixture, tenantID string) {
	t.Helper()
	if n := count(t, f.pool, `
		SELECT count(*) FROM ledger.balances b
		WHERE b.tenant_id = $1 AND b.balance <> (SELECT coalesce(sum(delta), 0) FROM ledger.entries e
			WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id)`, tenantID); n != 0 {
		t.Errorf("%d balances differ from the sum of their entries", n)
	}
	if n := count(t, f.pool, `
		SELECT count(*) FROM (
			SELECT balance_after, delta,
				coalesce(lag(balance_after) OVER (PARTITION BY balance_id ORDER BY stream_seq), 0) AS before
			FROM ledger.entries WHERE tenant_id = $1) c
		WHERE balance_after <> before + delta`, tenantID); n != 0 {
		t.Errorf("%d entries break their balance's chain", n)
	}
	if n := count(t, f.pool, `
		SELECT count(*) FROM ledger.balances b
		WHERE b.tenant_id = $1 AND b.last_entry_id IS DISTINCT FROM (SELECT max(entry_id) FROM ledger.entries e
			WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id)`, tenantID); n != 0 {
		t.Errorf("%d balances do not name their last entry", n)
	}
	if n := count(t, f.pool, `
		SELECT count(*) - coalesce(max(stream_seq), 0) FROM ledger.entries WHERE tenant_id = $1`, tenantID); n != 0 {
		t.Errorf("stream positions have gaps or repeats (%d)", n)
	}
}
