package auth

import "net/http"

// Kind is what a failed authentication means for the caller.
type Kind int

// The kinds.
const (
	// Unavailable: the credential could not be checked because the customer
	// service failed. It is not the client's fault and is not counted
	// against it. The zero Kind, so that nothing unsorted passes for the
	// client's fault.
	Unavailable Kind = iota
	// InvalidCredentials: the request's credential is missing, malformed,
	// wrong or revoked.
	InvalidCredentials
	// TooManyAttempts: the client has exhausted its failed attempts and is
	// refused before any credential is checked.
	TooManyAttempts
)

// Failure is a failed authentication, sorted once by the Guard. Each API
// only renders it in its own shape.
type Failure struct {
	Kind Kind
	// Missing is set when the request carried no credential at all, for the
	// APIs that say so.
	Missing bool
}

// HTTPStatus is the kind's status where an API has none of its own:
// 503, 401 or 429.
func (f Failure) HTTPStatus() int {
	switch f.Kind {
	case InvalidCredentials:
		return http.StatusUnauthorized
	case TooManyAttempts:
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}

// Messages are an API's words for the three kinds of failure.
type Messages struct {
	Unavailable, InvalidCredentials, TooManyAttempts string
}

// For is the message for f.
func (m Messages) For(f Failure) string {
	switch f.Kind {
	case InvalidCredentials:
		return m.InvalidCredentials
	case TooManyAttempts:
		return m.TooManyAttempts
	}
	return m.Unavailable
}
