package grpcapi

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func pay(customer int32, currency, amount string) *ledgerv1.Posting {
	return &ledgerv1.Posting{CustomerId: customer, Currency: currency, Kind: "PAYMENT", Amount: amount}
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, IdempotencyKeyMetadata, key)
}

func TestPostEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, err := f.client.PostEntry(withKey(f.a, "m1"), &ledgerv1.PostEntryRequest{Posting: &ledgerv1.Posting{
		CustomerId: 1, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 3, Amount: "12.5",
		Comment: "used at checkout", NotifyCustomer: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	e, b := first.GetEntry(), first.GetBalance()
	want := &ledgerv1.Entry{
		EntryId: e.GetEntryId(), CustomerId: 1, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 3,
		Delta: "-12.50", BalanceAfter: "-12.50", BalanceId: e.GetBalanceId(), IdempotencyKey: "m1",
		Comment: "used at checkout", NotifyCustomer: true, PostTime: e.GetPostTime(),
	}
	if diff := cmp.Diff(want, e, protocmp.Transform()); diff != "" || e.GetPostTime() == nil {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	wantBalance := &ledgerv1.Balance{BalanceId: e.GetBalanceId(), CustomerId: 1, Currency: "USD", WebsiteId: 2,
		Balance: "-12.50", LastEntryId: e.GetEntryId(), UpdateTime: e.GetPostTime()}
	if diff := cmp.Diff(wantBalance, b, protocmp.Transform()); diff != "" || first.GetReplayed() {
		t.Errorf("balance (-want +got):\n%s", diff)
	}

	t.Run("the metadata key replays", func(t *testing.T) {
		again, err := f.client.PostEntry(withKey(f.a, "m1"), &ledgerv1.PostEntryRequest{Posting: &ledgerv1.Posting{
			CustomerId: 1, Currency: "USD", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 3, Amount: "12.50",
			Comment: "used at checkout", NotifyCustomer: true,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !again.GetReplayed() {
			t.Error("not replayed")
		}
		again.Replayed = false
		if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
			t.Errorf("replay differs (-first +replay):\n%s", diff)
		}
	})
	t.Run("the same key with another posting", func(t *testing.T) {
		_, err := f.client.PostEntry(withKey(f.a, "m1"), &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1")})
		wantCode(t, err, codes.AlreadyExists, "")
		if !strings.Contains(status.Convert(err).Message(), `"m1" was first sent with a different request`) {
			t.Errorf("unclear message: %q", status.Convert(err).Message())
		}
	})
	t.Run("the request field wins over the metadata", func(t *testing.T) {
		res, err := f.client.PostEntry(withKey(f.a, "m1"), &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1"), IdempotencyKey: "f1"})
		if err != nil || res.GetReplayed() || res.GetEntry().GetIdempotencyKey() != "f1" {
			t.Fatalf("%v %v", res, err)
		}
	})
	t.Run("scales", func(t *testing.T) {
		for _, tc := range []struct{ currency, amount, want string }{
			{"JPY", "100", "100"}, {"BHD", "1.005", "1.005"}, {"EUR", "3", "3.00"},
		} {
			res, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(2, tc.currency, tc.amount)})
			if err != nil || res.GetEntry().GetDelta() != tc.want || res.GetBalance().GetBalance() != tc.want {
				t.Errorf("%s %s: %v %v, want %s", tc.currency, tc.amount, res, err, tc.want)
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			p     *ledgerv1.Posting
			code  codes.Code
			field string
		}{
			{"unknown currency", pay(1, "XXX", "1"), codes.InvalidArgument, "posting.currency"},
			{"too many decimals", pay(1, "USD", "1.001"), codes.InvalidArgument, "posting.amount"},
			{"decimals in yen", pay(1, "JPY", "1.5"), codes.InvalidArgument, "posting.amount"},
			{"zero", pay(1, "USD", "0.00"), codes.InvalidArgument, "posting.amount"},
			{"float syntax", pay(1, "USD", "1e2"), codes.InvalidArgument, "posting.amount"},
			{"negative order", &ledgerv1.Posting{CustomerId: 1, Currency: "USD", Kind: "ORDER", Amount: "-1"}, codes.InvalidArgument, "posting.amount"},
			{"action on payment", &ledgerv1.Posting{CustomerId: 1, Currency: "USD", Kind: "PAYMENT", Action: 2, Amount: "1"}, codes.InvalidArgument, "posting.action"},
			{"store credit without action", &ledgerv1.Posting{CustomerId: 1, Currency: "USD", Kind: "STORE_CREDIT", Amount: "1"}, codes.InvalidArgument, "posting.action"},
			{"unknown kind (protovalidate)", &ledgerv1.Posting{CustomerId: 1, Currency: "USD", Kind: "GIFT", Amount: "1"}, codes.InvalidArgument, ""},
			{"unknown customer", pay(99, "USD", "1"), codes.NotFound, ""},
			{"another tenant's customer", pay(6, "USD", "1"), codes.NotFound, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: tc.p, IdempotencyKey: "refused-" + strings.ReplaceAll(tc.name, " ", "-")})
				wantCode(t, err, tc.code, tc.field)
				if tc.field != "" {
					var details []string
					for _, d := range status.Convert(err).Details() {
						if br, ok := d.(*errdetails.BadRequest); ok {
							for _, v := range br.GetFieldViolations() {
								details = append(details, v.GetField())
							}
						}
					}
					if diff := cmp.Diff([]string{tc.field}, details); diff != "" {
						t.Errorf("BadRequest fields (-want +got):\n%s", diff)
					}
				}
			})
		}
		if n := count(t, f.pool, `SELECT count(*) FROM ledger.idempotency_keys WHERE key LIKE 'refused-%'`); n != 0 {
			t.Errorf("refused postings kept %d keys", n)
		}
	})
	t.Run("a known customer is asked about once", func(t *testing.T) {
		before := f.customers.calls.Load()
		for range 5 {
			if _, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(3, "USD", "1")}); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.customers.calls.Load() - before; n != 1 {
			t.Errorf("customer service asked %d times, want 1", n)
		}
	})
}

func TestBatchPostEntries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := &ledgerv1.BatchPostEntriesRequest{IdempotencyKey: "batch-1", Postings: []*ledgerv1.Posting{
		pay(1, "USD", "10"), {CustomerId: 1, Currency: "USD", Kind: "ORDER", Amount: "2.5"}, pay(2, "EUR", "1"),
	}}
	res, err := f.client.BatchPostEntries(f.a, req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.GetEntries() {
		got = append(got, e.GetDelta()+"→"+e.GetBalanceAfter())
	}
	if diff := cmp.Diff([]string{"10.00→10.00", "-2.50→7.50", "1.00→1.00"}, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if len(res.GetBalances()) != 2 || res.GetBalances()[0].GetBalance() != "7.50" || res.GetBalances()[1].GetBalance() != "1.00" {
		t.Errorf("balances = %v", res.GetBalances())
	}
	again, err := f.client.BatchPostEntries(f.a, req)
	if err != nil || !again.GetReplayed() {
		t.Fatalf("replay: %v %v", again, err)
	}
	again.Replayed = false
	if diff := cmp.Diff(res, again, protocmp.Transform()); diff != "" {
		t.Errorf("replay differs (-first +replay):\n%s", diff)
	}
	// One bad posting refuses the batch, naming it.
	_, err = f.client.BatchPostEntries(f.a, &ledgerv1.BatchPostEntriesRequest{Postings: []*ledgerv1.Posting{pay(1, "USD", "1"), pay(1, "USD", "1.001")}})
	wantCode(t, err, codes.InvalidArgument, "postings[1].amount")
	_, err = f.client.BatchPostEntries(f.a, &ledgerv1.BatchPostEntriesRequest{Postings: []*ledgerv1.Posting{pay(1, "USD", "1"), pay(42, "USD", "1")}})
	wantCode(t, err, codes.NotFound, "")
	if n := count(t, f.pool, `SELECT count(*) FROM ledger.entries`); n != 3 {
		t.Errorf("%d entries, want 3", n)
	}
}

func TestBalancesCurrenciesAndEntries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, p := range []*ledgerv1.Posting{
		pay(1, "USD", "10"), {CustomerId: 1, Currency: "USD", WebsiteId: 3, Kind: "ORDER", Amount: "2.25"},
		pay(1, "JPY", "500"), pay(1, "USD", "0.5"), pay(2, "USD", "99"),
	} {
		if _, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: p}); err != nil {
			t.Fatal(err)
		}
	}
	bal, err := f.client.GetBalances(f.a, &ledgerv1.GetBalancesRequest{CustomerId: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantSums := []*ledgerv1.CurrencyBalance{
		{Currency: "JPY", Description: "Yen", Scale: 0, Balance: "500"},
		{Currency: "USD", Description: "US Dollar", Scale: 2, Balance: "8.25"},
	}
	if diff := cmp.Diff(wantSums, bal.GetCurrencyBalances(), protocmp.Transform()); diff != "" {
		t.Errorf("currency balances (-want +got):\n%s", diff)
	}
	var perSite []string
	for _, b := range bal.GetBalances() {
		perSite = append(perSite, b.GetCurrency()+"/"+string(rune('0'+b.GetWebsiteId()))+"="+b.GetBalance())
	}
	if diff := cmp.Diff([]string{"JPY/0=500", "USD/0=10.50", "USD/3=-2.25"}, perSite); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	usd, err := f.client.GetBalances(f.a, &ledgerv1.GetBalancesRequest{CustomerId: 1, Currency: "USD"})
	if err != nil || len(usd.GetCurrencyBalances()) != 1 || len(usd.GetBalances()) != 2 {
		t.Errorf("USD only: %v %v", usd, err)
	}
	none, err := f.client.GetBalances(f.b, &ledgerv1.GetBalancesRequest{CustomerId: 1})
	if err != nil || len(none.GetCurrencyBalances())+len(none.GetBalances()) != 0 {
		t.Errorf("tenant b sees %v %v", none, err)
	}

	cur, err := f.client.ListCurrencies(f.b, &ledgerv1.ListCurrenciesRequest{})
	if err != nil || len(cur.GetCurrencies()) != 22 {
		t.Fatalf("currencies: %v %v", cur, err)
	}
	if diff := cmp.Diff(&ledgerv1.Currency{Code: "BHD", Description: "Bahraini Dinar", Scale: 3}, cur.GetCurrencies()[1], protocmp.Transform()); diff != "" {
		t.Errorf("BHD (-want +got):\n%s", diff)
	}

	// Newest first, two per page.
	var deltas []string
	req := &ledgerv1.ListEntriesRequest{CustomerId: 1, PageSize: 2}
	var tokens []string
	for {
		page, err := f.client.ListEntries(f.a, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.GetEntries() {
			deltas = append(deltas, e.GetDelta())
		}
		if page.GetNextPageToken() == "" {
			break
		}
		tokens = append(tokens, page.GetNextPageToken())
		req.PageToken = page.GetNextPageToken()
	}
	if diff := cmp.Diff([]string{"0.50", "500", "-2.25", "10.00"}, deltas); diff != "" {
		t.Errorf("entries newest first (-want +got):\n%s", diff)
	}
	site := int32(3)
	filtered, err := f.client.ListEntries(f.a, &ledgerv1.ListEntriesRequest{CustomerId: 1, Currency: "USD", WebsiteId: &site})
	if err != nil || len(filtered.GetEntries()) != 1 || filtered.GetEntries()[0].GetDelta() != "-2.25" {
		t.Errorf("USD on website 3: %v %v", filtered, err)
	}
	for name, call := range map[string]func() error{
		"another customer": func() error {
			_, err := f.client.ListEntries(f.a, &ledgerv1.ListEntriesRequest{CustomerId: 2, PageToken: tokens[0]})
			return err
		},
		"another filter": func() error {
			_, err := f.client.ListEntries(f.a, &ledgerv1.ListEntriesRequest{CustomerId: 1, Currency: "USD", PageToken: tokens[0]})
			return err
		},
		"another tenant": func() error {
			_, err := f.client.ListEntries(f.b, &ledgerv1.ListEntriesRequest{CustomerId: 1, PageToken: tokens[0]})
			return err
		},
		"garbage": func() error {
			_, err := f.client.ListEntries(f.a, &ledgerv1.ListEntriesRequest{CustomerId: 1, PageToken: "not a token"})
			return err
		},
	} {
		t.Run("page token of "+name, func(t *testing.T) { wantCode(t, call(), codes.InvalidArgument, "page_token") })
	}
}

func TestWatchEntriesCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 5 {
		if _, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(int32(1+i%2), "USD", "1")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"s1.", "s1.-1", "s1.01", "s2.5", "5", "s1.99999999999999999999", "s1.1x"} {
		stream, err := f.client.WatchEntries(f.a, &ledgerv1.WatchEntriesRequest{Cursor: bad})
		if err == nil {
			_, err = stream.Recv()
		}
		wantCode(t, err, codes.InvalidArgument, "cursor")
	}
	recv := func(ctx context.Context, cursor string, n int) []*ledgerv1.WatchEntriesResponse {
		t.Helper()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := f.client.WatchEntries(ctx, &ledgerv1.WatchEntriesRequest{Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		var out []*ledgerv1.WatchEntriesResponse
		for len(out) < n {
			r, err := stream.Recv()
			if err != nil {
				t.Fatalf("recv: %v", err)
			}
			out = append(out, r)
		}
		return out
	}
	all := recv(f.a, "", 5)
	if all[0].GetCursor() != "s1.1" || all[4].GetCursor() != "s1.5" {
		t.Errorf("cursors %q..%q", all[0].GetCursor(), all[4].GetCursor())
	}
	rest := recv(f.a, all[2].GetCursor(), 2)
	if diff := cmp.Diff(all[3:], rest, protocmp.Transform()); diff != "" {
		t.Errorf("resumed stream (-want +got):\n%s", diff)
	}
	// Live: an entry posted after the stream reached its end arrives.
	ctx, cancel := context.WithCancel(f.a)
	defer cancel()
	stream, err := f.client.WatchEntries(ctx, &ledgerv1.WatchEntriesRequest{Cursor: all[4].GetCursor()})
	if err != nil {
		t.Fatal(err)
	}
	posted, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(3, "USD", "7")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := stream.Recv()
	if err != nil || r.GetEntry().GetEntryId() != posted.GetEntry().GetEntryId() || r.GetCursor() != "s1.6" {
		t.Fatalf("live entry: %v %v", r, err)
	}
	// Tenant b's stream is its own, and empty.
	bctx, bcancel := context.WithCancel(f.b)
	bstream, err := f.client.WatchEntries(bctx, &ledgerv1.WatchEntriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	bcancel()
	if r, err := bstream.Recv(); err == io.EOF || status.Code(err) != codes.Canceled {
		t.Errorf("tenant b's stream gave %v, %v; want nothing until cancelled", r, err)
	}
}
