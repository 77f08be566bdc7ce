package oauth

import (
	"slices"
	"strings"
)

// ScopeOfflineAccess is the scope that asks for a refresh token at servers
// that want it explicitly.
const ScopeOfflineAccess = "offline_access"

// ParseScope splits a space-delimited OAuth scope string (RFC 6749 §3.3).
func ParseScope(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return UnionScopes(f)
}

// JoinScopes renders scopes as an OAuth scope string.
func JoinScopes(scopes []string) string { return strings.Join(UnionScopes(scopes), " ") }

// UnionScopes concatenates scope lists, keeping the first occurrence of each
// scope in order and dropping empty strings. Used for step-up authorization,
// where the new request asks for the union of granted and challenged scopes.
func UnionScopes(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			s = strings.TrimSpace(s)
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// DefaultScopes chooses the scopes to request [MCP 2025-11-25 §6]: the
// configured ones if any; else the scope of the 401 challenge; else the
// protected resource's scopes_supported; else none. offline_access is added
// when the authorization server lists it in scopes_supported and it is not
// already there, so that a refresh token is issued by servers that want it
// asked for — note this also applies when no other scope is known, so the
// request then carries only offline_access.
func DefaultScopes(configured []string, d *Discovery) []string {
	scopes := UnionScopes(configured)
	if d == nil {
		return scopes
	}
	if len(scopes) == 0 {
		scopes = UnionScopes(d.ChallengeScopes)
	}
	if len(scopes) == 0 {
		scopes = UnionScopes(d.ResourceScopes)
	}
	if slices.Contains(d.AuthServer.ScopesSupported, ScopeOfflineAccess) && !slices.Contains(scopes, ScopeOfflineAccess) {
		scopes = append(scopes, ScopeOfflineAccess)
	}
	return scopes
}
