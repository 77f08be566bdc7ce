package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Revoke revokes a token at the RFC 7009 revocation endpoint, authenticating
// as the client. typeHint is "refresh_token", "access_token" or "". It does
// nothing when the server has no revocation endpoint. Per RFC 7009 the
// server answers 200 even for unknown tokens. Errors are *TokenError.
func Revoke(ctx context.Context, c *http.Client, cfg FlowConfig, token, typeHint string) error {
	endpoint := cfg.Endpoint.RevocationEndpoint
	if endpoint == "" || token == "" {
		return nil
	}
	form := url.Values{"token": {token}}
	if typeHint != "" {
		form.Set("token_type_hint", typeHint)
	}
	const what = "revocation endpoint"
	resp, terr := postForm(ctx, c, KindRevoke, endpoint, form, cfg.Client, what)
	if terr != nil {
		return terr
	}
	defer drainClose(resp)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	code, desc := oauthErrorFields(body)
	te := &TokenError{URL: redact.URL(endpoint), StatusCode: resp.StatusCode, Code: upstreamCode(code, token, cfg.Client.ClientSecret), endpoint: what}
	switch {
	case desc != "":
		te.Description = quoteUpstream(desc, token, cfg.Client.ClientSecret)
	case code == "":
		te.Description = quoteUpstream(string(body), token, cfg.Client.ClientSecret)
	}
	return te
}

// RevokeGrant revokes a user's grant (RFC 7009): the refresh token first,
// which ends the grant at most servers, then the access token. It does
// nothing without a revocation endpoint. Errors are *TokenError, joined.
func RevokeGrant(ctx context.Context, c *http.Client, cfg FlowConfig, refreshToken, accessToken string) error {
	return errors.Join(
		Revoke(ctx, c, cfg, refreshToken, "refresh_token"),
		Revoke(ctx, c, cfg, accessToken, "access_token"),
	)
}
