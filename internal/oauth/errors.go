package oauth

import (
	"errors"
	"net/url"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Reason classifies an *Error. The values double as condition reasons in the
// MCPServer status, so they are stable API.
type Reason string

// Reasons an *Error can carry.
const (
	ReasonDiscoveryFailed         Reason = "DiscoveryFailed"
	ReasonIssuerMismatch          Reason = "IssuerMismatch"
	ReasonIssuerNotListed         Reason = "IssuerNotListed"
	ReasonResourceMismatch        Reason = "ResourceMismatch"
	ReasonPKCEUnsupported         Reason = "PKCEUnsupported"
	ReasonRegistrationUnsupported Reason = "RegistrationUnsupported"
	ReasonRegistrationFailed      Reason = "RegistrationFailed"
	ReasonURLBlocked              Reason = "URLBlocked"
)

// Error is a discovery, registration or egress failure.
//
// Transient errors (network errors, timeouts, 5xx and 429 answers) are worth
// retrying with backoff; the others need a person to change configuration
// or the remote side. Message is written for humans: it names the URL
// (without query string) and says what to do. It never contains tokens,
// codes or secrets, and upstream text quoted in it is truncated.
type Error struct {
	Reason    Reason
	URL       string // the URL concerned, query string and fragment removed
	Message   string
	Err       error // underlying cause, if any
	Transient bool
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Reason)
		if e.URL != "" {
			msg += ": " + e.URL
		}
	}
	if e.Err != nil {
		var inner *Error
		if !errors.As(e.Err, &inner) { // an inner *Error already explained itself
			msg += ": " + safeErrorText(e.Err)
		}
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of the first *Error in err's chain, or "" when
// there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// IsTransient reports whether err is worth retrying: an *Error or
// *TokenError marked transient, or a network error or timeout.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Reason == ReasonURLBlocked {
			return false
		}
		if e.Transient {
			return true
		}
	}
	var te *TokenError
	if errors.As(err, &te) {
		return te.Transient()
	}
	return isNetworkError(err)
}

// maxQuoted bounds upstream text quoted in errors, in runes, so a verbose
// provider can neither flood a condition nor leak much through it.
const maxQuoted = 200

// quoteUpstream prepares upstream-provided text for an error message: secrets
// the request carried are replaced, then the text is truncated.
func quoteUpstream(s string, secrets ...string) string {
	return redact.Line(redact.Secrets(s, secrets...), maxQuoted)
}

// upstreamCode is an OAuth error code as quoted back: short, and redacted
// like a description, since a broken server may echo anything there.
func upstreamCode(code string, secrets ...string) string {
	return redact.Line(redact.Secrets(code, secrets...), 64)
}

// safeErrorText renders err for a message. A *url.Error is unwrapped so that
// the request URL (with its query) is not repeated; the URL is named by the
// caller in redacted form.
func safeErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return redact.Line(redact.Error(err), 2*maxQuoted)
}
