package grpcapi

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
)

// A key outside the syntax is refused on every way into the ledger, and
// nothing is written: a key silently dropped or changed would let a retry
// post twice.
func TestIdempotencyKeySyntax(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bad := []struct{ name, key string }{
		{"cyrillic", "заказ-1"},
		{"accent", "café-7"},
		{"tab inside", "a\tb"},
		{"space inside", "a b"},
		{"too long", strings.Repeat("k", 201)},
	}
	for _, tt := range bad {
		t.Run("field/"+tt.name, func(t *testing.T) {
			_, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1"), IdempotencyKey: tt.key})
			wantCode(t, err, codes.InvalidArgument, "")
			_, err = f.client.BatchPostEntries(f.a, &ledgerv1.BatchPostEntriesRequest{
				Postings: []*ledgerv1.Posting{pay(1, "USD", "1")}, IdempotencyKey: tt.key})
			wantCode(t, err, codes.InvalidArgument, "")
		})
	}
	// A raw 0xFF byte cannot reach the ledger at all: protobuf strings are
	// UTF-8, and gRPC's client refuses to marshal the request. gRPC metadata
	// carries printable ASCII only (its client refuses to send
	// anything else), so the space is what can still arrive that way.
	t.Run("metadata/space inside", func(t *testing.T) {
		_, err := f.client.PostEntry(withKey(f.a, "a b"), &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1")})
		wantCode(t, err, codes.InvalidArgument, "idempotency_key")
		if !strings.Contains(status.Convert(err).Message(), "visible ASCII") {
			t.Errorf("message %q does not state the rule", status.Convert(err).Message())
		}
	})
	t.Run("metadata/sent twice", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(f.a, IdempotencyKeyMetadata, "k1", IdempotencyKeyMetadata, "k2")
		_, err := f.client.PostEntry(ctx, &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1")})
		wantCode(t, err, codes.InvalidArgument, "idempotency_key")
	})
	if n := count(t, f.pool, `SELECT count(*) FROM ledger.entries`); n != 0 {
		t.Errorf("%d entries written by refused requests", n)
	}
	t.Run("every visible ASCII character", func(t *testing.T) {
		var b strings.Builder
		for c := byte('!'); c <= '~'; c++ {
			b.WriteByte(c)
		}
		res, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1"), IdempotencyKey: b.String()})
		if err != nil || res.GetEntry().GetIdempotencyKey() != b.String() {
			t.Fatalf("key %q: %v, %v", b.String(), res, err)
		}
	})
}

// The stream head counts what a follower at any cursor has not seen, and
// dates the first of it.
func TestGetStreamHead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	empty, err := f.client.GetStreamHead(f.a, &ledgerv1.GetStreamHeadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&ledgerv1.GetStreamHeadResponse{}, empty, protocmp.Transform()); diff != "" {
		t.Errorf("no entries (-want +got):\n%s", diff)
	}
	var posted []*ledgerv1.Entry
	for i := range 4 {
		res, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(int32(1+i%2), "USD", "1")})
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, res.GetEntry())
	}
	tests := []struct {
		cursor string
		want   *ledgerv1.GetStreamHeadResponse
	}{
		{"", &ledgerv1.GetStreamHeadResponse{HeadCursor: "s1.4", HeadEntryId: posted[3].GetEntryId(), EntriesAfterCursor: 4, FirstAfterCursorTime: posted[0].GetPostTime()}},
		{"s1.1", &ledgerv1.GetStreamHeadResponse{HeadCursor: "s1.4", HeadEntryId: posted[3].GetEntryId(), EntriesAfterCursor: 3, FirstAfterCursorTime: posted[1].GetPostTime()}},
		{"s1.4", &ledgerv1.GetStreamHeadResponse{HeadCursor: "s1.4", HeadEntryId: posted[3].GetEntryId()}},
	}
	for _, tt := range tests {
		got, err := f.client.GetStreamHead(f.a, &ledgerv1.GetStreamHeadRequest{Cursor: tt.cursor})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("cursor %q (-want +got):\n%s", tt.cursor, diff)
		}
	}
	other, err := f.client.GetStreamHead(f.b, &ledgerv1.GetStreamHeadRequest{})
	if err != nil || other.GetEntriesAfterCursor() != 0 {
		t.Errorf("tenant b sees %v, %v; want its own empty stream", other, err)
	}
	_, err = f.client.GetStreamHead(f.a, &ledgerv1.GetStreamHeadRequest{Cursor: "s1.x"})
	wantCode(t, err, codes.InvalidArgument, "cursor")
}

// A posting whose commit was cut off is UNAVAILABLE, the code callers retry
// on, with the advice to retry with the same key.
func TestOutcomeUnknownIsRetryable(t *testing.T) {
	t.Parallel()
	err := toStatus(context.Background(), slog.New(slog.DiscardHandler), ledger.ErrOutcomeUnknown)
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "same idempotency key") {
		t.Errorf("status = %v; want UNAVAILABLE advising a retry with the same key", st)
	}
}

// The stream marks the entries that the same transaction continues, so a
// follower can keep an atomic batch whole.
func TestWatchEntriesMarksTransactions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(1, "USD", "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.BatchPostEntries(f.a, &ledgerv1.BatchPostEntriesRequest{
		Postings: []*ledgerv1.Posting{pay(1, "USD", "1"), pay(2, "USD", "2"), pay(1, "EUR", "3")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PostEntry(f.a, &ledgerv1.PostEntryRequest{Posting: pay(2, "USD", "1")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.a)
	defer cancel()
	stream, err := f.client.WatchEntries(ctx, &ledgerv1.WatchEntriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for range 5 {
		r, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.GetContinues())
	}
	if want := []bool{false, true, true, false, false}; !cmp.Equal(want, got) {
		t.Errorf("continues = %v, want %v (the batch's first two entries continue)", got, want)
	}
}
