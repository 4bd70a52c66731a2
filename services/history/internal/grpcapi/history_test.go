package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/shopspring/decimal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	"github.com/abacus-ledger/abacus/services/history/internal/history"
)

// Each domain error has one code; internal failures never show their text.
func TestToStatus(t *testing.T) {
	t.Parallel()
	s := NewHistory(nil, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{&history.FieldError{Field: "page_token", Rule: "malformed"}, codes.InvalidArgument},
		{fmt.Errorf("customer 9: %w", history.ErrNotFound), codes.NotFound},
		{fmt.Errorf("entry 5: %w", history.ErrNotApplied), codes.Unavailable},
		{fmt.Errorf("customer 9: %w: %w", history.ErrUnavailable, errors.New("dial")), codes.Unavailable},
		{context.Canceled, codes.Canceled},
		{errors.New("connection refused to 10.0.0.1"), codes.Internal},
	} {
		st := status.Convert(s.toStatus(t.Context(), tc.err))
		if st.Code() != tc.want {
			t.Errorf("%v → %v, want %v", tc.err, st.Code(), tc.want)
		}
		if tc.want == codes.Internal && st.Message() != "internal error" {
			t.Errorf("internal failure shown to the client: %q", st.Message())
		}
	}
	st := status.Convert(s.toStatus(t.Context(), &history.FieldError{Field: "start_time", Rule: "must not be after end_time"}))
	if len(st.Details()) != 1 {
		t.Fatalf("details = %v", st.Details())
	}
	if br, ok := st.Details()[0].(*errdetails.BadRequest); !ok || br.GetFieldViolations()[0].GetField() != "start_time" {
		t.Errorf("detail = %v", st.Details()[0])
	}
}

func TestConversions(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"500.00": "500.00", "-200": "-200", "0": "0", "1.2300": "1.2300", "1E+3": "1000"} {
		if got := amount(decimal.RequireFromString(in)); got != want {
			t.Errorf("amount(%s) = %s, want %s", in, got, want)
		}
	}
	if _, err := requiredTime("time", nil); err == nil {
		t.Error("a missing time is accepted")
	}
	if _, err := optionalTime("start_time", &timestamppb.Timestamp{Seconds: 1 << 62}); err == nil {
		t.Error("an out-of-range time is accepted")
	}
	c, err := consistency(&historyv1.ReadConsistency{MinEntryId: 7, MaxWait: durationpb.New(0)})
	if err != nil || c.MinEntryID != 7 || c.MaxWait == nil || *c.MaxWait != 0 {
		t.Errorf("consistency = %+v, %v; want entry 7 with an explicit zero wait", c, err)
	}
	if c, _ := consistency(&historyv1.ReadConsistency{MinEntryId: 7}); c.MaxWait != nil {
		t.Errorf("unset max_wait = %v, want nil (the default applies)", *c.MaxWait)
	}
}
