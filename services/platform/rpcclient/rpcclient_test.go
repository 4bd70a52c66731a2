package rpcclient

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// frozenServer accepts every call and never answers it, as a stopped or
// wedged process behind a live socket does; it counts the deadlines its
// callers sent.
func frozenServer(t *testing.T) (addr string, deadlines chan time.Duration) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadlines = make(chan time.Duration, 16)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if d, ok := stream.Context().Deadline(); ok {
			deadlines <- time.Until(d)
		} else {
			deadlines <- 0
		}
		<-stream.Context().Done()
		return stream.Context().Err()
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), deadlines
}

// A call without a deadline of its own gets the one of its kind, so a
// frozen peer cannot hold its caller: reads the read timeout, writes the
// write timeout. The figures are chosen far apart so that which one the
// server saw is clear; nothing here depends on how long anything takes.
func TestEveryCallToAFrozenPeerEnds(t *testing.T) {
	t.Parallel()
	addr, deadlines := frozenServer(t)
	conn, err := Dial(addr, "token", Config{ReadTimeout: 100 * time.Millisecond, WriteTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ledgerv1.NewLedgerServiceClient(conn)

	tests := []struct {
		name     string
		call     func(ctx context.Context) error
		min, max time.Duration // of the deadline the server saw
	}{
		{"read", func(ctx context.Context) error {
			_, err := client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 1})
			return err
		}, 0, 100 * time.Millisecond},
		{"write", func(ctx context.Context) error {
			_, err := client.PostEntry(ctx, &ledgerv1.PostEntryRequest{})
			return err
		}, 150 * time.Millisecond, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(context.Background())
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("call to a frozen peer = %v, want DEADLINE_EXCEEDED", err)
			}
			if d := <-deadlines; d <= tt.min || d > tt.max {
				t.Errorf("the server saw a deadline %v away; want within (%v, %v]", d, tt.min, tt.max)
			}
		})
	}
	t.Run("the caller's own deadline stands", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		ctx, stop := context.WithCancel(ctx)
		go func() { <-deadlines; stop() }()
		_, err := client.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: 1})
		if status.Code(err) != codes.Canceled {
			t.Fatalf("call = %v, want it to wait for its own context (CANCELED)", err)
		}
	})
}

func TestReadOnlyFollowsTheProtos(t *testing.T) {
	t.Parallel()
	for method, want := range map[string]bool{
		ledgerv1.LedgerService_GetBalances_FullMethodName:      true,
		ledgerv1.LedgerService_GetStreamHead_FullMethodName:    true,
		ledgerv1.LedgerService_PostEntry_FullMethodName:        false,
		ledgerv1.LedgerService_BatchPostEntries_FullMethodName: false,
		"/no.such.Service/Get":                                 false,
	} {
		if got := ReadOnly(method); got != want {
			t.Errorf("ReadOnly(%s) = %v, want %v", method, got, want)
		}
	}
}
