// Package grpcapi adapts the customer domain to its gRPC contracts.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/grpcerr"
)

// toStatus maps domain errors to gRPC codes, in one place. Internal failures
// are logged and never shown to the client.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if st, ok := grpcerr.Field(err); ok {
		return st
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, customer.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, customer.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, customer.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, customer.ErrAmbiguous):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, customer.ErrStale):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, tenant.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, tenant.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, tenant.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, tenant.ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, "invalid credentials")
	}
	return grpcerr.Unexpected(ctx, log, err)
}
