package e2e

import (
	"fmt"
	"maps"
	"testing"
)

func withHeader(h map[string]string, k, v string) map[string]string {
	out := maps.Clone(h)
	out[k] = v
	return out
}

// The native posting API end to end: the Idempotency-Key header makes a
// retry safe, a batch is all or nothing, and balances and entries read back
// what was posted.
func TestNativePostingsAndIdempotency(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	auth := basicAuth(tc.magentoUser, tc.magentoKey)
	id := createNative(t, auth, `{"name":"Poster","status":"CUSTOMER_STATUS_ACTIVE"}`)
	path := fmt.Sprintf("/v1/customers/%d/entries", id)
	payment := `{"currency":"USD","kind":"PAYMENT","amount":"25.00","comment":"first"}`

	code, first := call(t, "POST", path, withHeader(auth, "Idempotency-Key", "k-1"), []byte(payment))
	if code != 200 || field(first, "replayed") != false || field(first, "entry", "idempotency_key") != "k-1" {
		t.Fatalf("first posting: %d %v", code, first)
	}
	code, again := call(t, "POST", path, withHeader(auth, "Idempotency-Key", "k-1"), []byte(payment))
	if code != 200 || field(again, "replayed") != true ||
		field(again, "entry", "entry_id") != field(first, "entry", "entry_id") ||
		field(again, "entry", "balance_after") != "25.00" {
		t.Errorf("retry with the same key: %d %v, want the first answer replayed", code, again)
	}
	code, reused := call(t, "POST", path, withHeader(auth, "Idempotency-Key", "k-1"),
		[]byte(`{"currency":"USD","kind":"PAYMENT","amount":"26.00"}`))
	if code != 409 || field(reused, "code") != float64(6) {
		t.Errorf("same key, other request: %d %v, want 409 ALREADY_EXISTS", code, reused)
	}

	// A batch with one bad posting writes none of them.
	code, bad := call(t, "POST", "/v1/entries:batchPost", auth, []byte(fmt.Sprintf(`{"postings":[
		{"customer_id":%d,"currency":"USD","kind":"ORDER","amount":"5.00"},
		{"customer_id":%d,"currency":"USD","kind":"ORDER","amount":"5.001"}]}`, id, id)))
	if code != 400 {
		t.Errorf("batch with too many decimals: %d %v, want 400", code, bad)
	}
	code, good := call(t, "POST", "/v1/entries:batchPost", withHeader(auth, "Idempotency-Key", "b-1"), []byte(fmt.Sprintf(`{"postings":[
		{"customer_id":%d,"currency":"USD","kind":"ORDER","amount":"5.00"},
		{"customer_id":%d,"currency":"EUR","kind":"ADJUSTMENT","amount":"-2.50","website_id":3}]}`, id, id)))
	if entries, _ := field(good, "entries").([]any); code != 200 || len(entries) != 2 {
		t.Fatalf("batch: %d %v", code, good)
	}

	code, bal := call(t, "GET", fmt.Sprintf("/v1/customers/%d/balances", id), auth, nil)
	if code != 200 {
		t.Fatalf("balances: %d %v", code, bal)
	}
	sums := map[string]any{}
	for _, cb := range field(bal, "currency_balances").([]any) {
		sums[field(cb, "currency").(string)] = field(cb, "balance")
	}
	if sums["USD"] != "20.00" || sums["EUR"] != "-2.50" || len(sums) != 2 {
		t.Errorf("balances = %v, want USD 20.00 and EUR -2.50", sums)
	}
	code, list := call(t, "GET", path+"?page_size=10", auth, nil)
	if es, _ := field(list, "entries").([]any); code != 200 || len(es) != 3 {
		t.Errorf("entries: %d %v, want 3 (the retry and the failed batch wrote nothing)", code, list)
	}

	// Another tenant's credential cannot post to this customer id's data.
	other := newTenant(t)
	code, _ = call(t, "POST", path, basicAuth(other.magentoUser, other.magentoKey), []byte(payment))
	if code != 404 {
		t.Errorf("another tenant posting to customer %d: %d, want 404 (it has no such customer)", id, code)
	}
}
