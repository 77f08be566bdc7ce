package oauth

import (
	"crypto/subtle"
	"fmt"
	"net/url"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// AuthorizationResponseKind says why an authorization response was not
// accepted.
type AuthorizationResponseKind int

// Kinds of *AuthorizationResponseError, in the order they are checked.
const (
	// StateMismatch: the response does not belong to the request in
	// progress (RFC 6749 §10.12 CSRF protection).
	StateMismatch AuthorizationResponseKind = iota + 1
	// IssuerMismatch: RFC 9207 failed; the response was not acted on, not
	// even on its error parameters. Err is the *Error of
	// CheckIssuerParameter.
	IssuerMismatch
	// Denied: the authorization server answered with an error (RFC 6749
	// §4.1.2.1); Code and Description carry it.
	Denied
	// NoCode: neither an error nor an authorization code.
	NoCode
)

// AuthorizationResponseError is a refused authorization response. Its
// message never contains the code or state.
type AuthorizationResponseError struct {
	Kind AuthorizationResponseKind
	// Code and Description are the error and error_description parameters
	// (Denied only), with the request's state and any code replaced: a
	// caller may log or show them. They are still upstream text: escape and
	// truncate them before showing them anywhere.
	Code, Description string
	Err               error // the cause (IssuerMismatch)
}

func (e *AuthorizationResponseError) Error() string {
	switch e.Kind {
	case StateMismatch:
		return "the authorization response does not belong to the request in progress (state mismatch)"
	case IssuerMismatch:
		if e.Err != nil {
			return e.Err.Error()
		}
		return "the authorization response did not come from the expected authorization server (RFC 9207)"
	case Denied:
		msg := fmt.Sprintf("the authorization server refused the authorization: error=%q", upstreamCode(e.Code))
		if e.Description != "" {
			msg += ": " + quoteUpstream(e.Description)
		}
		return msg
	default:
		return "the authorization response carries no authorization code"
	}
}

func (e *AuthorizationResponseError) Unwrap() error { return e.Err }

// IsAccessDenied reports whether the authorization server answered
// error=access_denied (typically the user said no).
func (e *AuthorizationResponseError) IsAccessDenied() bool {
	return e.Kind == Denied && e.Code == "access_denied"
}

// ParseAuthorizationResponse checks the query of the redirect back to the
// redirect URI and returns the authorization code. In order: state
// (constant-time against wantState), RFC 9207 iss (CheckIssuerParameter; a
// response from the wrong issuer is not acted on, not even on its error
// parameters), then error/error_description, then a missing code. Errors
// are *AuthorizationResponseError.
func ParseAuthorizationResponse(cfg FlowConfig, q url.Values, wantState string) (string, error) {
	if wantState == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(wantState)) != 1 {
		return "", &AuthorizationResponseError{Kind: StateMismatch}
	}
	iss, present := q["iss"]
	var first string
	if len(iss) > 0 {
		first = iss[0]
	}
	// The iss quoted in a mismatch is upstream text: it must not carry the
	// state or code into the message either.
	if err := checkIssuer(cfg, first, present, wantState, q.Get("code")); err != nil {
		return "", &AuthorizationResponseError{Kind: IssuerMismatch, Err: err}
	}
	if q.Has("error") {
		secrets := []string{wantState, q.Get("code")}
		return "", &AuthorizationResponseError{Kind: Denied, Code: redact.Secrets(q.Get("error"), secrets...),
			Description: redact.Secrets(q.Get("error_description"), secrets...)}
	}
	code := q.Get("code")
	if code == "" {
		return "", &AuthorizationResponseError{Kind: NoCode}
	}
	return code, nil
}
