package tokenrefresh

import (
	"strings"
	"testing"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

func TestUnbound(t *testing.T) {
	const (
		as, asToken = "https://as.example.com", "https://as.example.com/token"
		other       = "https://evil.example.net/token?x=secret"
	)
	static := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2,
		OAuth2: &mcpv1.OAuth2Auth{ClientID: "c", AuthorizationURL: as + "/authorize", TokenURL: asToken}}}}
	discovered := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}}}
	cfg := func(issuer, token string) *oauth.FlowConfig {
		return &oauth.FlowConfig{Endpoint: oauth.Endpoint{Issuer: issuer, TokenEndpoint: token}}
	}
	rec := func(issuer, token string) tokensecret.Record {
		return tokensecret.Record{Issuer: issuer, TokenEndpoint: token}
	}
	tests := []struct {
		name   string
		server *mcpv1.MCPServer
		rec    tokensecret.Record
		cfg    *oauth.FlowConfig
		want   string
	}{
		{"discovered, unchanged", discovered, rec(as, asToken), cfg(as, asToken), ""},
		{"discovered, the issuer's metadata moved its token endpoint", discovered, rec(as, asToken), cfg(as, as+"/oauth2/token"), ""},
		{"discovered, another issuer", discovered, rec(as, asToken), cfg("https://as2.example.com", "https://as2.example.com/token"), unboundIssuerChanged},
		{"discovered, a Secret without a token endpoint, another issuer", discovered, rec(as, ""), cfg("https://as2.example.com", asToken), unboundIssuerChanged},
		{"static, unchanged", static, rec(as, asToken), cfg(as, asToken), ""},
		// Discovery of a static server comes and goes; its tokenURL is what counts.
		{"static, issuer no longer discovered", static, rec(as, asToken), cfg("", asToken), ""},
		{"static, issuer discovered later", static, rec("", asToken), cfg(as, asToken), ""},
		{"static, tokenURL changed, issuer unchanged", static, rec(as, asToken), cfg(as, other), unboundTokenEndpointChanged},
		{"static, tokenURL changed, no issuer known", static, rec("", asToken), cfg("", other), unboundTokenEndpointChanged},
		{"static, a Secret without a token endpoint, same issuer", static, rec(as, ""), cfg(as, other), ""},
		{"static, a Secret without a token endpoint, another issuer", static, rec(as, ""), cfg("", other), unboundIssuerChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, why := unbound(tc.rec, tc.server, tc.cfg)
			if reason != tc.want {
				t.Fatalf("reason %q (%s), want %q", reason, why, tc.want)
			}
			if (why == "") != (reason == "") {
				t.Errorf("reason %q with explanation %q", reason, why)
			}
			if strings.Contains(why, "secret") {
				t.Errorf("a query string reached the explanation: %s", why)
			}
		})
	}
}
