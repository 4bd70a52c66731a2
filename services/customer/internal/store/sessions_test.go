package store_test

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/platform/pgtest"
)

// TestDeleteExpiredMagentoSessionsBatches: the janitor's statement deletes
// at most its limit of expired sessions, and never a live one.
func TestDeleteExpiredMagentoSessionsBatches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.MigratedPool(t, "customer", migrations.FS)
	s := store.New(pool)
	tn, err := s.CreateTenant(ctx, store.Tenant{ID: uuid.NewString(), Name: "Acme", Company: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	secret := sha256.Sum256([]byte("secret"))
	c, err := s.CreateCredential(ctx, store.Credential{ID: uuid.NewString(), TenantID: tn.ID, Kind: store.KindMagento, Identifier: "api"}, secret[:])
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([][]byte, 6)
	for i := range hashes {
		h := sha256.Sum256([]byte{byte(i)})
		hashes[i] = h[:]
		if err := s.CreateMagentoSession(ctx, tn.ID, c.ID, hashes[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Five of the six idle for two hours.
	if _, err := pool.Exec(ctx, `UPDATE customer.magento_sessions SET last_use_time = now() - interval '2 hours'
		WHERE session_hash <> $1`, hashes[0]); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for range 4 {
		n, err := s.DeleteExpiredMagentoSessions(ctx, time.Hour, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if want := []int64{2, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("batches deleted %v, want %v", got, want)
	}
	if _, err := s.FindMagentoSession(ctx, hashes[0], time.Hour); err != nil {
		t.Errorf("the live session: %v", err)
	}
	if _, err := s.DeleteExpiredMagentoSessions(ctx, time.Hour, 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
	// A session of a revoked credential cannot be created.
	if _, _, err := s.RevokeCredential(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMagentoSession(ctx, tn.ID, c.ID, hashes[1]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a revoked credential: %v, want ErrNotFound", err)
	}
}
