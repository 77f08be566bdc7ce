package oauth

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// BearerChallenge returns the parameters of the first Bearer challenge in
// the response's WWW-Authenticate headers (keys lower-cased), and whether
// there was one. A malformed header counts as no challenge.
func BearerChallenge(resp *http.Response) (map[string]string, bool) {
	if resp == nil {
		return nil, false
	}
	values := resp.Header.Values("WWW-Authenticate")
	if len(values) == 0 {
		return nil, false
	}
	challenges, err := oauthex.ParseWWWAuthenticate(values)
	if err != nil {
		return nil, false
	}
	for _, ch := range challenges {
		if ch.Scheme == "bearer" {
			if ch.Params == nil {
				ch.Params = map[string]string{}
			}
			return ch.Params, true
		}
	}
	return nil, false
}

// MaxStepUpAttempts bounds the authorizations of one chain of
// insufficient_scope challenges, the authorization whose token was first
// refused included (so at most MaxStepUpAttempts-1 step-ups follow it), so
// that a server that keeps asking cannot loop a client forever. The MCP
// conformance suite (auth/scope-retry-limit) fails a client that makes more
// than 3 authorization requests in total.
const MaxStepUpAttempts = 3

// InsufficientScope recognises a step-up challenge: a 403 with
// `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. It
// returns the challenged scopes (possibly none) and true. The caller should
// re-authorize with UnionScopes(granted, scopes), a bounded number of times.
func InsufficientScope(resp *http.Response) (scopes []string, ok bool) {
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	params, ok := BearerChallenge(resp)
	if !ok || params["error"] != "insufficient_scope" {
		return nil, false
	}
	return ParseScope(params["scope"]), true
}
