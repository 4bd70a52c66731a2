package store

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/ledger/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// Entries are immutable in the database itself, whatever the code does.
func TestEntriesAreImmutable(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, "ledger", migrations.FS)
	s := New(pool)
	ctx := t.Context()
	const tenant = "2d7b3c1e-0000-4000-8000-000000000001"
	if _, err := s.Currencies(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	k := BalanceKey{TenantID: tenant, CustomerID: 1, Currency: "USD"}
	posted, taken, _, err := s.PostGroup(ctx, []GroupPosting{{BalanceKey: k, Kind: "PAYMENT", Delta: decimal.RequireFromString("5"), Scale: 2}}, nil)
	if err != nil || len(posted) != 1 || len(taken) != 0 || posted[0].BalanceAfter.String() != "5" || posted[0].StreamSeq != 1 {
		t.Fatalf("post: %+v, %+v, %v", posted, taken, err)
	}
	for _, sql := range []string{
		`UPDATE ledger.entries SET delta = 6`,
		`DELETE FROM ledger.entries`,
		`TRUNCATE ledger.entries CASCADE`,
	} {
		_, err := pool.Exec(context.Background(), sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23000" || !Refused(err) {
			t.Errorf("%s: %v, want the immutability trigger's refusal", sql, err)
		}
	}
	es, err := s.ReadStream(ctx, tenant, 0, 10)
	if err != nil || len(es) != 1 || es[0].Delta.String() != "5" || es[0].StreamSeq != 1 {
		t.Errorf("stream = %+v, %v", es, err)
	}
}
