package grounded

import (
	"errors"
	"fmt"
)

// Error codes. The server maps each to one HTTP status (server/errors.go).
const (
	EINVALID     = "invalid"     // the caller's input is wrong
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	ETOOLARGE    = "too_large"   // the input is over a size limit
	ECONFLICT    = "conflict"    // the request clashes with the index's state
	EUNAVAILABLE = "unavailable" // a service we depend on failed (the model broke off mid-stream)
	EINTERNAL    = "internal"    // a fault of ours

	EUNSUPPORTED  = "unsupported_media_type" // a body in a content type we do not read
	EUNAUTHORIZED = "unauthorized"           // no API key, or one we do not know
	EFORBIDDEN    = "forbidden"              // the key may not use that collection
	ERATELIMITED  = "rate_limited"           // the key sent too many requests; retry later
	EBUSY         = "busy"                   // too much work queued; retry later
)

// Error is an error with a code and a message fit to show the caller.
type Error struct {
	Code    string
	Message string
	Err     error // optional cause, for logs; not shown to callers
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err: the message of the
// first *Error in its chain, or "internal error" for anything else.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}

// ErrNotFound is returned when a document or chunk does not exist.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}
