package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Read your writes on every surface that reads history: several clients
// each post a store-credit entry through one of two gateways and at once
// read the customer's history back through the other — Magento's route or
// the native one — with two history replicas behind the gateways, while
// the replica projecting the tenant is killed and restarted. No read that
// answers may miss the posting acknowledged before it; a read may only
// fail, in its dialect's unavailable shape, while nothing projects.
func TestReadYourWritesThroughReplicas(t *testing.T) {
	t.Parallel()
	p := startHistoryProcs(t, "ABACUS_HISTORY_TENANT_POLL=300ms")
	startCtx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	replica, err := p.Add(startCtx, "history") // "history#2"
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(replica.Name) })
	peers := func(history string) []string {
		return []string{"ABACUS_CUSTOMER_ADDR=" + p.Addr("customer"), "ABACUS_LEDGER_ADDR=" + p.Addr("ledger"), "ABACUS_HISTORY_ADDR=" + p.Addr(history)}
	}
	gateways := []string{startGateway(t, peers("history")...), startGateway(t, peers("history#2")...)}

	ctx := t.Context()
	admin := customerv1.NewTenantAdminServiceClient(p.conns["customer"])
	tr, err := admin.CreateTenant(ctx, &customerv1.CreateTenantRequest{Name: "Read your writes", Company: "ryw-" + randomHex(4)})
	if err != nil {
		t.Fatal(err)
	}
	tenant := tr.GetTenant().GetTenantId()
	cr, err := admin.CreateCredential(ctx, &customerv1.CreateCredentialRequest{TenantId: tenant, Kind: customerv1.CredentialKind_CREDENTIAL_KIND_MAGENTO})
	if err != nil {
		t.Fatal(err)
	}
	auth := basicAuth(cr.GetCredential().GetIdentifier(), cr.GetSecret())
	customers := historyClientsOf(p.conns).historyCreateCustomers(t, tenancy.WithTenant(ctx, tenant), 4)

	const rounds = 500
	var (
		done, unavailable, misses atomic.Int64
		mu                        sync.Mutex
		firstMiss                 string
		wg                        sync.WaitGroup
	)
	miss := func(format string, args ...any) {
		misses.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if firstMiss == "" {
			firstMiss = fmt.Sprintf(format, args...)
		}
	}
	for c, customer := range customers {
		wg.Go(func() {
			for i := range rounds {
				posted, ok := postStoreCredit(t, gateways[(c+i)%2], auth, customer, fmt.Sprintf("ryw-%d-%d-%s", c, i, randomHex(3)))
				if !ok {
					return
				}
				gw := gateways[(c+i+1)%2]
				magento := i%2 == 0
				for retry := newRetry(); ; {
					first, status := newestHistoryID(t, gw, auth, customer, magento)
					if status == 503 && retry.again(t) {
						unavailable.Add(1)
						continue
					}
					if status != 200 || first != posted {
						miss("client %d round %d via %s (magento %v): status %d, newest %q, posted %q", c, i, gw, magento, status, first, posted)
					}
					break
				}
				done.Add(1)
			}
		})
	}
	// Kill each replica in the middle of it all, one of them the one that
	// projects the tenant, and start it again.
	awaitPairs := func(n int64) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for done.Load() < n && misses.Load() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
	awaitPairs(rounds)
	p.kill("history")
	p.launch("history")
	awaitPairs(2 * rounds)
	p.kill("history#2")
	p.launch("history#2")
	wg.Wait()
	t.Logf("%d post-then-read pairs, %d reads answered unavailable and retried", done.Load(), unavailable.Load())
	if n := misses.Load(); n > 0 {
		t.Errorf("%d of %d reads missed the posting acknowledged before them; the first: %s", n, done.Load(), firstMiss)
	}
	if done.Load() != int64(len(customers)*rounds) {
		t.Errorf("%d pairs done, want %d", done.Load(), len(customers)*rounds)
	}
}

// retry paces the retries of an unavailable answer — a replica being
// restarted answers at once, so counting attempts alone would give up
// within a second — and bounds them, so that an outage that never heals
// fails the test instead of stalling it. The bound is far above any
// restart here; it is not a measurement.
type retry struct{ until time.Time }

func newRetry() retry { return retry{until: time.Now().Add(60 * time.Second)} }

// again waits a moment and reports whether to try again.
func (r retry) again(t *testing.T) bool {
	if time.Now().After(r.until) {
		return false
	}
	select {
	case <-t.Context().Done():
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

// postStoreCredit posts one store-credit update through a gateway's native
// API, retrying an unavailable answer with the same key, and returns the
// entry id.
func postStoreCredit(t *testing.T, gw string, auth map[string]string, customer int32, key string) (string, bool) {
	body := []byte(`{"currency":"USD","kind":"STORE_CREDIT","action":1,"amount":"5.00","comment":"read your writes"}`)
	for retry := newRetry(); ; {
		code, raw, err := httpDo(t.Context(), "POST", fmt.Sprintf("%s/v1/customers/%d/entries", gw, customer), withHeader(auth, "Idempotency-Key", key), body)
		if err != nil {
			t.Errorf("post: %v", err)
			return "", false
		}
		if code == 503 && retry.again(t) {
			continue
		}
		var v any
		if code != 200 || json.Unmarshal(raw, &v) != nil {
			t.Errorf("post: %d %s", code, raw)
			return "", false
		}
		return fmt.Sprint(field(v, "entry", "entry_id")), true
	}
}

// newestHistoryID reads the customer's newest history row through Magento's
// route or the native one.
func newestHistoryID(t *testing.T, gw string, auth map[string]string, customer int32, magento bool) (string, int) {
	path := fmt.Sprintf("%s/v1/customers/%d/history?page_size=1", gw, customer)
	if magento {
		path = fmt.Sprintf("%s/api/rest/customers/%d/storecredit/history", gw, customer)
	}
	code, raw, err := httpDo(t.Context(), "GET", path, auth, nil)
	if err != nil {
		t.Errorf("read: %v", err)
		return "", 0
	}
	var v any
	if code != 200 {
		return "", code
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("read: %s", raw)
		return "", 0
	}
	if magento {
		return fmt.Sprint(field(v, 0, "history_id")), code
	}
	id := field(v, "entries", 0, "history_id")
	if f, ok := id.(float64); ok {
		return strconv.FormatInt(int64(f), 10), code
	}
	return fmt.Sprint(id), code
}
