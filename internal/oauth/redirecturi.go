package oauth

import (
	"fmt"
	"net/url"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// ValidateRedirectURI checks a callback URL the operator registers or sends:
// https, or http on a loopback host (127.0.0.1, [::1], localhost); absolute,
// without fragment or user info (RFC 6749 §3.1.2, OAuth 2.1 §7.5.1).
func ValidateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	bad := func(why string) error {
		return &Error{Reason: ReasonRegistrationFailed, URL: redact.URL(raw),
			Message: fmt.Sprintf("redirect URI %s is not usable: %s", redact.Line(redact.URL(raw), maxQuoted), why)}
	}
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return bad("it must be an absolute URL")
	case u.Fragment != "" || u.User != nil:
		return bad("it must not have a fragment or user info")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
		return nil
	}
	return bad("it must use https (plain http only on a loopback host)")
}
