// Package grpcapi adapts the ledger domain to its gRPC contract,
// abacus.ledger.v1.LedgerService.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/services/ledger/internal/ledger"
	"github.com/abacus-ledger/abacus/services/platform/grpcerr"
)

// toStatus maps domain errors to gRPC codes, in one place. Internal
// failures are logged and never shown to the client.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if st, ok := grpcerr.Field(err); ok {
		return st
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ledger.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ledger.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ledger.ErrKeyReused):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, ledger.ErrOutcomeUnknown):
		// UNAVAILABLE, not UNKNOWN: the call is safe to repeat with its key,
		// and every client library and dialect treats UNAVAILABLE as
		// "retry", where UNKNOWN reads as a bug.
		log.ErrorContext(ctx, "posting outcome unknown", "error", err.Error())
		return status.Error(codes.Unavailable, "the posting's commit was cut off, so it may or may not have been written; "+
			"retry with the same idempotency key to find out")
	case errors.Is(err, ledger.ErrUnavailable):
		log.WarnContext(ctx, "unavailable", "error", err.Error())
		return status.Error(codes.Unavailable, "the ledger cannot serve this call now; retry later (postings with the same idempotency key)")
	}
	return grpcerr.Unexpected(ctx, log, err)
}
