package tokenrefresh

import (
	"fmt"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// Reasons a refresh token is not sent, recorded as the Secret's refresh error.
const (
	unboundIssuerChanged        = "IssuerChanged"
	unboundTokenEndpointChanged = "TokenEndpointChanged"
)

// unbound says why the refresh token of rec must not be sent to the token
// endpoint of cfg, the MCPServer's configuration now; reason is "" when it
// may be. A refresh token goes back only to where it came from:
//   - a server whose token endpoint is set in spec (spec.auth.oauth2.tokenURL):
//     to the token endpoint recorded in the Secret. The issuer in status is
//     then only a guess from discovery (it comes and goes with it), and a
//     changed tokenURL must not carry every user's refresh token to the
//     new host.
//   - a discovered server: to the token endpoint of the issuer recorded in
//     the Secret, i.e. the issuer must be the same; its token endpoint is
//     whatever that issuer's metadata names now.
//
// A Secret from before token endpoints were recorded is held to its issuer
// in both cases, and gets the token endpoint recorded at its next refresh.
func unbound(rec tokensecret.Record, server *mcpv1.MCPServer, cfg *oauth.FlowConfig) (reason, why string) {
	ep := cfg.Endpoint
	if o := server.Spec.Auth.OAuth2; o != nil && o.TokenURL != "" && rec.TokenEndpoint != "" {
		if rec.TokenEndpoint == ep.TokenEndpoint {
			return "", ""
		}
		return unboundTokenEndpointChanged, fmt.Sprintf("the token endpoint changed from %s to %s after the user connected",
			redact.URL(rec.TokenEndpoint), redact.URL(ep.TokenEndpoint))
	}
	if rec.Issuer == ep.Issuer {
		return "", ""
	}
	return unboundIssuerChanged, fmt.Sprintf("the authorization server changed from %s to %s after the user connected",
		issuerName(rec.Issuer), issuerName(ep.Issuer))
}

func issuerName(issuer string) string {
	if issuer == "" {
		return "an unknown issuer"
	}
	return redact.URL(issuer)
}
