// Package grpcerr is the part of mapping errors to gRPC status that every
// service shares: what is left once a service's own domain errors are
// mapped.
package grpcerr

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/services/platform/fielderr"
)

// Field is the gRPC status of err when it is, or wraps, a *fielderr.Error:
// INVALID_ARGUMENT with the message "field: rule" and a BadRequest detail,
// the shape the validation interceptor gives too.
func Field(err error) (error, bool) {
	var fe *fielderr.Error
	if !errors.As(err, &fe) {
		return nil, false
	}
	st := status.New(codes.InvalidArgument, fe.Error())
	if d, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: fe.Field, Description: fe.Rule},
	}}); derr == nil {
		st = d
	}
	return st.Err(), true
}

// Unexpected maps an error no domain case matched: a cancelled or expired
// context keeps its code; anything else is logged and becomes INTERNAL,
// without its text, which the client never sees.
func Unexpected(ctx context.Context, log *slog.Logger, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	log.ErrorContext(ctx, "internal error", "error", err.Error())
	return status.Error(codes.Internal, "internal error")
}
