// Package upstream sorts the error of a call from the gateway to a service,
// once, into what it means for the caller, and logs once what is not the
// caller's doing. Each API then only renders the sorted kind in its own
// shape, so the dialects cannot disagree on what an outage or a refusal is.
package upstream

import (
	"context"
	"log/slog"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kind is what a failed service call means for the caller.
type Kind int

// The kinds. The first five and Unimplemented are the caller's to fix, and
// the service's message and details are written for the caller;
// Unavailable and Internal are Abacus's, and their detail stays in the log.
const (
	// Internal is a fault of Abacus: INTERNAL, DATA_LOSS, a service
	// refusing the gateway itself (UNAUTHENTICATED, PERMISSION_DENIED: the
	// caller was authenticated already), and any error that is not a gRPC
	// status. The zero Kind, so that nothing unsorted passes for the
	// caller's fault.
	Internal Kind = iota
	// Invalid is INVALID_ARGUMENT or OUT_OF_RANGE.
	Invalid
	// NotFound is NOT_FOUND.
	NotFound
	// Conflict is ALREADY_EXISTS, such as an idempotency key reused for
	// another request.
	Conflict
	// FailedPrecondition is FAILED_PRECONDITION, such as an ambiguous name.
	FailedPrecondition
	// Aborted is ABORTED: a concurrent change; the caller may try again.
	Aborted
	// Unavailable means the call may succeed if retried later: UNAVAILABLE,
	// DEADLINE_EXCEEDED, UNKNOWN (an outcome the service could not learn,
	// such as a commit cut off by a crash), RESOURCE_EXHAUSTED and
	// CANCELED. A posting retried with the same idempotency key is safe.
	Unavailable
	// Unimplemented is UNIMPLEMENTED.
	Unimplemented
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "failed precondition", "aborted", "unavailable", "unimplemented"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(?)"
	}
	return kindNames[k]
}

// HTTPStatus is the kind's HTTP status where a dialect has no status of
// its own for it; it follows grpc-gateway's mapping of the codes, except
// that every Unavailable code is 503.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid, FailedPrecondition:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict, Aborted:
		return http.StatusConflict
	case Unavailable:
		return http.StatusServiceUnavailable
	case Unimplemented:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// Error is a sorted service error.
type Error struct {
	Kind Kind
	// Status is the service's answer. Show its message and details only for
	// the caller's kinds (Invalid to Aborted, Unimplemented).
	Status *status.Status
	// Field and Rule come from the first field violation of the
	// errdetails.BadRequest of an Invalid error; without one, Field is ""
	// and Rule is the status message.
	Field, Rule string
}

// Message is the service's message.
func (e Error) Message() string { return e.Status.Message() }

// Sort sorts err, the non-nil error of a call to a service, and logs it
// when it is not the caller's doing: Unavailable at warn (at info when the
// caller's own request has ended, since then nobody is waiting), Internal
// at error, each with the error's text, which no answer carries.
func Sort(ctx context.Context, log *slog.Logger, err error) Error {
	st, ok := status.FromError(err)
	if !ok {
		// A context error of the call itself is an outcome the gateway could
		// not learn; anything else that is not a gRPC status is the
		// gateway's own failure.
		if st = status.FromContextError(err); st.Code() == codes.Unknown {
			st = status.New(codes.Internal, err.Error())
		}
	}
	e := Error{Kind: kindOf(st.Code()), Status: st, Rule: st.Message()}
	if e.Kind == Invalid {
		if v := firstViolation(st); v != nil {
			e.Field, e.Rule = v.GetField(), v.GetDescription()
		}
	}
	if log == nil {
		return e
	}
	switch e.Kind {
	case Unavailable:
		level := slog.LevelWarn
		if ctx.Err() != nil {
			level = slog.LevelInfo
		}
		log.Log(ctx, level, "service unavailable", "code", st.Code().String(), "error", err.Error())
	case Internal:
		log.ErrorContext(ctx, "service call failed", "code", st.Code().String(), "error", err.Error())
	}
	return e
}

func kindOf(c codes.Code) Kind {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return Invalid
	case codes.NotFound:
		return NotFound
	case codes.AlreadyExists:
		return Conflict
	case codes.FailedPrecondition:
		return FailedPrecondition
	case codes.Aborted:
		return Aborted
	case codes.Unavailable, codes.DeadlineExceeded, codes.Unknown, codes.ResourceExhausted, codes.Canceled:
		return Unavailable
	case codes.Unimplemented:
		return Unimplemented
	}
	return Internal
}

func firstViolation(st *status.Status) *errdetails.BadRequest_FieldViolation {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0]
		}
	}
	return nil
}
