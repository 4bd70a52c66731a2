package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// logRecord is one decoded line of the JSON log.
type logRecord struct {
	Level, Msg, Code, Error string
}

func records(t *testing.T, buf *bytes.Buffer) []logRecord {
	t.Helper()
	var out []logRecord
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r logRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func badRequest(field, rule string) error {
	st, err := status.New(codes.InvalidArgument, "invalid posting").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: rule}},
	})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func TestSort(t *testing.T) {
	t.Parallel()
	const refused = `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:9092: connect: connection refused"`
	tests := []struct {
		name      string
		err       error
		kind      Kind
		http      int
		field     string
		rule      string
		wantLevel string // "" for no log line
	}{
		{"invalid with a field violation", badRequest("posting.amount", "must have at most 2 decimals"), Invalid, 400,
			"posting.amount", "must have at most 2 decimals", ""},
		{"invalid without details", status.Error(codes.InvalidArgument, "customer_id: must be positive"), Invalid, 400,
			"", "customer_id: must be positive", ""},
		{"out of range", status.Error(codes.OutOfRange, "page past the end"), Invalid, 400, "", "page past the end", ""},
		{"not found", status.Error(codes.NotFound, "customer 9 not found"), NotFound, 404, "", "customer 9 not found", ""},
		{"already exists", status.Error(codes.AlreadyExists, "idempotency key already used"), Conflict, 409, "", "idempotency key already used", ""},
		{"failed precondition", status.Error(codes.FailedPrecondition, "ambiguous"), FailedPrecondition, 400, "", "ambiguous", ""},
		{"aborted", status.Error(codes.Aborted, "changed meanwhile"), Aborted, 409, "", "changed meanwhile", ""},
		{"unavailable", status.Error(codes.Unavailable, refused), Unavailable, 503, "", refused, "WARN"},
		{"deadline exceeded", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), Unavailable, 503, "", "context deadline exceeded", "WARN"},
		{"unknown outcome", status.Error(codes.Unknown, "the posting's commit was cut off"), Unavailable, 503, "", "the posting's commit was cut off", "WARN"},
		{"resource exhausted", status.Error(codes.ResourceExhausted, "too many"), Unavailable, 503, "", "too many", "WARN"},
		{"canceled", status.Error(codes.Canceled, "context canceled"), Unavailable, 503, "", "context canceled", "WARN"},
		{"unimplemented", status.Error(codes.Unimplemented, "method PostEntry not implemented"), Unimplemented, 501, "", "method PostEntry not implemented", ""},
		{"internal", status.Error(codes.Internal, "pq: password authentication failed"), Internal, 500, "", "pq: password authentication failed", "ERROR"},
		{"data loss", status.Error(codes.DataLoss, "torn page"), Internal, 500, "", "torn page", "ERROR"},
		{"the gateway refused by a service", status.Error(codes.PermissionDenied, "unknown tenant"), Internal, 500, "", "unknown tenant", "ERROR"},
		{"unauthenticated gateway", status.Error(codes.Unauthenticated, "bad token"), Internal, 500, "", "bad token", "ERROR"},
		{"a context error of the call", fmt.Errorf("call: %w", context.DeadlineExceeded), Unavailable, 503, "", "context deadline exceeded", "WARN"},
		{"not a gRPC status", errors.New("marshal: bad UTF-8"), Internal, 500, "", "marshal: bad UTF-8", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			e := Sort(t.Context(), log, tt.err)
			if e.Kind != tt.kind || e.Kind.HTTPStatus() != tt.http || e.Field != tt.field || !strings.HasSuffix(e.Rule, tt.rule) {
				t.Errorf("Sort = kind %v (HTTP %d), field %q, rule %q; want %v (HTTP %d), %q, %q",
					e.Kind, e.Kind.HTTPStatus(), e.Field, e.Rule, tt.kind, tt.http, tt.field, tt.rule)
			}
			recs := records(t, &buf)
			if tt.wantLevel == "" {
				if len(recs) != 0 {
					t.Errorf("logged %v for the caller's own mistake", recs)
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("logged %d lines, want 1: %v", len(recs), recs)
			}
			if r := recs[0]; r.Level != tt.wantLevel || r.Error != tt.err.Error() {
				t.Errorf("log = %+v, want level %s with the error text %q", r, tt.wantLevel, tt.err.Error())
			}
		})
	}
}

// A request whose caller has gone is not an outage: it is logged at info.
func TestSortCallerGone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var buf bytes.Buffer
	e := Sort(ctx, slog.New(slog.NewJSONHandler(&buf, nil)), status.Error(codes.Canceled, "context canceled"))
	if e.Kind != Unavailable {
		t.Errorf("kind = %v, want unavailable", e.Kind)
	}
	if recs := records(t, &buf); len(recs) != 1 || recs[0].Level != "INFO" {
		t.Errorf("log = %v, want one INFO line", recs)
	}
}
