// Package grpcerr is the part of mapping errors to gRPC status that every
// service shares: what is left once a service's own domain errors are
// mapped.
package grpcerr

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
