package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// historyClients are gRPC clients of one process set, acting for a tenant
// through the context (tenancy.WithTenant).
type historyClients struct {
	customers customerv1.CustomerServiceClient
	ledger    ledgerv1.LedgerServiceClient
	history   historyv1.HistoryServiceClient
}

func historyClientsOf(conns map[string]*grpc.ClientConn) historyClients {
	return historyClients{
		customers: customerv1.NewCustomerServiceClient(conns["customer"]),
		ledger:    ledgerv1.NewLedgerServiceClient(conns["ledger"]),
		history:   historyv1.NewHistoryServiceClient(conns["history"]),
	}
}

// historyCreateCustomers creates n customers of the tenant and returns their ids.
func (c historyClients) historyCreateCustomers(t *testing.T, ctx context.Context, n int) []int32 {
	t.Helper()
	var ids []int32
	for i := range n {
		resp, err := c.customers.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
			Name: fmt.Sprintf("History %d %s", i, randomHex(3)), Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
		}})
		if err != nil {
			t.Fatalf("create customer: %v", err)
		}
		ids = append(ids, resp.GetCustomer().GetCustomerId())
	}
	return ids
}

func (c historyClients) historyPost(t *testing.T, ctx context.Context, p *ledgerv1.Posting) *ledgerv1.Entry {
	t.Helper()
	resp, err := c.ledger.PostEntry(ctx, &ledgerv1.PostEntryRequest{Posting: p, IdempotencyKey: "h-" + randomHex(8)})
	if err != nil {
		t.Fatalf("post %v: %v", p, err)
	}
	return resp.GetEntry()
}

// historyAwait waits, with the history's own read-your-write option, until
// it has applied entry e.
func (c historyClients) historyAwait(t *testing.T, ctx context.Context, e *ledgerv1.Entry) {
	t.Helper()
	_, err := c.history.ListHistory(ctx, &historyv1.ListHistoryRequest{CustomerId: e.GetCustomerId(), PageSize: 1,
		Consistency: &historyv1.ReadConsistency{MinEntryId: e.GetEntryId(), MaxWait: durationpb.New(30 * time.Second)}})
	if err != nil {
		t.Fatalf("history did not apply entry %d: %v", e.GetEntryId(), err)
	}
}

// The native /v1 history routes: pages, balance at an instant, statements,
// lag, and each bad input as a google.rpc.Status with the right HTTP status.
func TestHistoryNativeAPI(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t), newTenant(t)
	c := historyClientsOf(sys.tokenConns)
	ctxA, ctxB := tenancy.WithTenant(t.Context(), a.id), tenancy.WithTenant(t.Context(), b.id)
	idsA := c.historyCreateCustomers(t, ctxA, 2)
	idsB := c.historyCreateCustomers(t, ctxB, 1)
	cust, empty := idsA[0], idsA[1]
	var entries []*ledgerv1.Entry
	for i, amt := range []string{"100.00", "-30.50", "12.25", "7.00"} {
		kind := "ADJUSTMENT"
		if i == 2 {
			kind = "PAYMENT"
		}
		entries = append(entries, c.historyPost(t, ctxA, &ledgerv1.Posting{CustomerId: cust, Currency: "USD", Kind: kind, Amount: amt, WebsiteId: int32(i % 2)}))
	}
	entries = append(entries, c.historyPost(t, ctxA, &ledgerv1.Posting{CustomerId: cust, Currency: "EUR", Kind: "PAYMENT", Amount: "5.00"}))
	c.historyAwait(t, ctxB, c.historyPost(t, ctxB, &ledgerv1.Posting{CustomerId: idsB[0], Currency: "USD", Kind: "PAYMENT", Amount: "1.00"}))
	last := entries[len(entries)-1]
	authA, authB := basicAuth(a.magentoUser, a.magentoKey), basicAuth(b.exigoLogin+"@"+b.company, b.exigoPassword)
	base := "/v1/customers/" + strconv.Itoa(int(cust))

	// Read-your-write over REST: the query names the entry to wait for.
	code, body := call(t, "GET", base+"/history?page_size=2&consistency.min_entry_id="+strconv.FormatInt(last.GetEntryId(), 10)+"&consistency.max_wait=30s", authA, nil)
	if code != 200 {
		t.Fatalf("history page 1: %d %v", code, body)
	}
	got := historyIDsOf(body)
	token, _ := field(body, "next_page_token").(string)
	if len(got) != 2 || token == "" {
		t.Fatalf("page 1 = %v, token %q", got, token)
	}
	for token != "" {
		code, body = call(t, "GET", base+"/history?page_size=2&page_token="+url.QueryEscape(token), authA, nil)
		if code != 200 {
			t.Fatalf("next page: %d %v", code, body)
		}
		got = append(got, historyIDsOf(body)...)
		token, _ = field(body, "next_page_token").(string)
	}
	var want []string
	for i := len(entries) - 1; i >= 0; i-- { // posted one after another: newest first is reverse posting order
		want = append(want, strconv.FormatInt(entries[i].GetEntryId(), 10))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history ids = %v, want %v", got, want)
	}

	code, body = call(t, "GET", base+"/history?currency=USD&website_id=1", authA, nil)
	if ids := historyIDsOf(body); code != 200 || len(ids) != 2 {
		t.Errorf("filtered history: %d %v", code, body)
	}
	at := url.QueryEscape(entries[1].GetPostTime().AsTime().Format(time.RFC3339Nano))
	code, body = call(t, "GET", base+"/balances:at?time="+at+"&currency=USD", authA, nil)
	if code != 200 || field(body, "totals", 0, "balance") != "69.50" || field(body, "totals", 0, "currency") != "USD" {
		t.Errorf("balance at the second entry: %d %v", code, body)
	}
	start := url.QueryEscape(entries[0].GetPostTime().AsTime().Add(-time.Second).Format(time.RFC3339Nano))
	end := url.QueryEscape(last.GetPostTime().AsTime().Add(time.Second).Format(time.RFC3339Nano))
	code, body = call(t, "GET", base+"/statement?currency=USD&start_time="+start+"&end_time="+end, authA, nil)
	if code != 200 || field(body, "opening_balance") != "0" || field(body, "closing_balance") != "88.75" {
		t.Errorf("statement: %d %v", code, body)
	}
	if totals, _ := field(body, "totals").([]any); len(totals) != 2 {
		t.Errorf("statement totals = %v, want ADJUSTMENT and PAYMENT", field(body, "totals"))
	}
	code, body = call(t, "GET", "/v1/history:lag", authA, nil)
	if code != 200 || field(body, "cursor") == "" {
		t.Errorf("lag: %d %v", code, body)
	}

	// A page token of tenant A's query, replayed by B for its own customer
	// of the same id, or by A with another filter.
	_, body = call(t, "GET", base+"/history?page_size=1", authA, nil)
	tokA, _ := field(body, "next_page_token").(string)
	bBase := "/v1/customers/" + strconv.Itoa(int(idsB[0]))
	for _, tc := range []struct {
		name, path string
		auth       map[string]string
		wantHTTP   int
		wantCode   float64
	}{
		{"token of another tenant", bBase + "/history?page_token=" + url.QueryEscape(tokA), authB, 400, 3},
		{"token of another query", base + "/history?currency=USD&page_token=" + url.QueryEscape(tokA), authA, 400, 3},
		{"malformed token", base + "/history?page_token=xyz", authA, 400, 3},
		{"inverted history range", base + "/history?start_time=" + end + "&end_time=" + start, authA, 400, 3},
		{"inverted statement", base + "/statement?currency=USD&start_time=" + end + "&end_time=" + start, authA, 400, 3},
		{"statement without currency", base + "/statement?start_time=" + start + "&end_time=" + end, authA, 400, 3},
		{"balance without time", base + "/balances:at", authA, 400, 3},
		{"unknown customer", "/v1/customers/999999/history", authA, 404, 5},
		{"customer of the other tenant", "/v1/customers/" + strconv.Itoa(int(empty)) + "/history", authB, 404, 5},
		{"non-numeric customer", "/v1/customers/abc/history", authA, 400, 3},
		{"negative customer", "/v1/customers/-4/history", authA, 400, 3},
		{"negative website", base + "/history?website_id=-1", authA, 400, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, "GET", tc.path, tc.auth, nil)
			if code != tc.wantHTTP || field(body, "code") != tc.wantCode || field(body, "message") == "" {
				t.Errorf("%s: %d %v, want HTTP %d with code %v", tc.path, code, body, tc.wantHTTP, tc.wantCode)
			}
		})
	}
	// A customer without entries has an empty history, not an error.
	code, body = call(t, "GET", "/v1/customers/"+strconv.Itoa(int(empty))+"/history", authA, nil)
	if code != 200 || len(historyIDsOf(body)) != 0 {
		t.Errorf("customer without entries: %d %v", code, body)
	}
}

func historyIDsOf(body any) []string {
	es, _ := field(body, "entries").([]any)
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprint(field(e, "history_id")))
	}
	return out
}
