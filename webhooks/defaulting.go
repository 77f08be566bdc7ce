package webhooks

import (
	"strings"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Default normalises an MCPServer and fills the defaults defined in
// api/v1alpha1, the same values the CRD's default markers use. It is
// idempotent: defaulting a defaulted object changes nothing.
func Default(s *mcpv1.MCPServer) {
	sp := &s.Spec
	trimAll(&sp.DisplayName, &sp.Description, &sp.IconURL, &sp.URL)
	if sp.Transport == "" {
		sp.Transport = mcpv1.DefaultTransport
	}
	if sp.Availability == "" {
		sp.Availability = mcpv1.DefaultAvailability
	}
	if sp.Enabled == nil {
		enabled := mcpv1.DefaultEnabled
		sp.Enabled = &enabled
	}
	if sp.Tools != nil {
		sp.Tools.Allow = cleanToolNames(sp.Tools.Allow)
		sp.Tools.Deny = cleanToolNames(sp.Tools.Deny)
	}
	defaultAuth(&sp.Auth)
}

func defaultAuth(a *mcpv1.Auth) {
	if a.Type == "" {
		a.Type = mcpv1.DefaultAuthType
	}
	if o := a.OAuth2; o != nil {
		trimAll(&o.ClientID, &o.AuthorizationURL, &o.TokenURL, &o.Issuer)
		trimSecretKeySelector(o.ClientSecretRef)
		// Scopes are trimmed but not deduplicated or dropped: a duplicate or
		// empty scope is reported, since scope order and content matter.
		for i := range o.Scopes {
			o.Scopes[i] = strings.TrimSpace(o.Scopes[i])
		}
	}
	if k := a.APIKey; k != nil {
		trimAll(&k.Header)
		trimSecretKeySelector(&k.SecretKeyRef)
	}
	if h := a.Headers; h != nil {
		trimAll(&h.SecretRef.Name)
	}
	if u := a.UserOIDC; u != nil {
		trimAll(&u.Audience)
	}
}

func trimSecretKeySelector(s *mcpv1.SecretKeySelector) {
	if s != nil {
		trimAll(&s.Name, &s.Key)
	}
}

func trimAll(ss ...*string) {
	for _, s := range ss {
		*s = strings.TrimSpace(*s)
	}
}

// cleanToolNames trims names and drops empty and repeated ones, keeping the
// first occurrence's order. A list left empty becomes nil (omitted).
func cleanToolNames(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
