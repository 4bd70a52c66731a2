// Package fielderr is the error a service's domain returns for one invalid
// field, and its gRPC form: INVALID_ARGUMENT with the message "field: rule"
// and a BadRequest detail, the shape the validation interceptor gives too.
package fielderr

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrInvalid is what every *Error unwraps to.
var ErrInvalid = errors.New("invalid argument")

// Error is an invalid value: Field names it (the proto field path) and Rule
// says what it must be.
type Error struct {
	Field string
	Rule  string
}

func (e *Error) Error() string { return e.Field + ": " + e.Rule }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

// New returns an *Error whose rule is formatted from format and args.
func New(field, format string, args ...any) error {
	return &Error{Field: field, Rule: fmt.Sprintf(format, args...)}
}

// Status is the gRPC status of err when it is, or wraps, an *Error.
func Status(err error) (error, bool) {
	var fe *Error
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
