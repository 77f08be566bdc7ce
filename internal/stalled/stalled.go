// Package stalled decides, for a reconcile failure, whether a person must fix
// something or a retry can help. It is modelled on Flux's internal/error:
// one error type for "stalled" and one classifier every step goes through.
package stalled

import (
	"errors"
	"fmt"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Error is a failure only a person can fix (a missing Secret, a callback URL
// the manager was not given, a discovered value that does not fit status):
// retrying without a change to the object, or to what it references, cannot
// help. Reason is a condition reason; Message says what to fix.
type Error struct {
	Reason  string
	Message string
}

// Errorf returns an *Error with a formatted message.
func Errorf(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Message }

// Kind is what a reconcile should do about a failure.
type Kind int

const (
	// Unexpected failures (API errors, bugs) leave the condition alone and
	// are returned for a rate-limited retry.
	Unexpected Kind = iota
	// Stalled failures set the condition False and wait for a change or the
	// slow resync: no hot retry.
	Stalled
	// Transient failures (network errors, 5xx, 429 from an upstream) set the
	// condition False and are returned for a rate-limited retry.
	Transient
)

// Verdict is the classification of one failure: Reason and Message are
// what the condition says (empty for Unexpected).
type Verdict struct {
	Kind    Kind
	Reason  string
	Message string
}

// maxMessage bounds an upstream failure's text in a condition message.
const maxMessage = 900

// Classify sorts err into Stalled, Transient or Unexpected. An *Error is
// Stalled; an *oauth.Error is Transient when oauth.IsTransient says so and
// Stalled otherwise (its Reason is the condition reason, defaultReason when
// it has none); anything else is Unexpected.
func Classify(err error, defaultReason string) Verdict {
	var se *Error
	if errors.As(err, &se) {
		return Verdict{Kind: Stalled, Reason: se.Reason, Message: se.Message}
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return Verdict{Kind: Unexpected}
	}
	reason := string(oe.Reason)
	if reason == "" {
		reason = defaultReason
	}
	message := redact.Truncate(redact.Error(err), maxMessage)
	if oauth.IsTransient(err) {
		return Verdict{Kind: Transient, Reason: reason, Message: message + ". This looks temporary: the operator retries with backoff"}
	}
	return Verdict{Kind: Stalled, Reason: reason, Message: message}
}
