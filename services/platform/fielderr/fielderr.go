// Package fielderr is the error a service's domain returns for one invalid
// field. It imports nothing but the standard library, so domain packages
// stay free of gRPC; grpcerr.Field gives its gRPC form.
package fielderr

import (
	"errors"
	"fmt"
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
