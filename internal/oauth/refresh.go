package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Refresh redeems a refresh token (RFC 6749 §6), sending resource as the
// RFC 8707 resource unless it is "" (x/oauth2 cannot add parameters to a
// refresh, hence this small request of our own). The caller passes the
// resource the grant was made for, or "" when cfg.ResourceOnRefresh is
// unset (providers that reject resource on refresh, such as Entra ID): a
// refresh may not ask for a resource its grant does not cover (RFC 8707
// §2.2), so cfg.Resource, which may have changed since, is not used.
//
// It sends no scope, whatever cfg.Scopes holds: an omitted scope is the
// scope the user granted (RFC 6749 §6), which is what a refresh must keep.
// cfg.Scopes are what the server is configured to ask for at authorization;
// the user's grant can hold more (step-up) or fewer (partial consent), and
// servers reject a refresh that names a scope its grant lacks (invalid_scope,
// "refresh token missing requested scope" at node-oidc-provider).
//
// The returned Token is exactly what the server answered: RefreshToken is
// empty when the server did not rotate it, and the caller then keeps the one
// it has. A rotated refresh token must be persisted at once; the old one may
// already be revoked (reuse detection). Errors are *TokenError; see
// IsInvalidGrant (the grant is dead: stop, ask the user to reconnect),
// IsInvalidClient (register again) and Transient (retry with backoff).
func Refresh(ctx context.Context, c *http.Client, cfg FlowConfig, refreshToken, resource string) (*Token, error) {
	safe := redact.URL(cfg.Endpoint.TokenEndpoint)
	if cfg.Endpoint.TokenEndpoint == "" {
		return nil, &TokenError{Err: errors.New("no token endpoint configured")}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	resp, terr := postForm(ctx, c, KindToken, cfg.Endpoint.TokenEndpoint, form, cfg.Client, "token endpoint")
	if terr != nil {
		return nil, terr
	}
	defer drainClose(resp)
	return parseTokenResponse(resp, safe, refreshToken, cfg.Client.ClientSecret)
}
