package oidcprovider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
	"github.com/mcp-operator/mcp-operator/test/oidcprovider"
)

// The operator's OAuth library, step by step, against node-oidc-provider:
// discovery through the MCP server's 401, DCR, the code flow with PKCE and
// RFC 9207 iss, and refreshes with rotation, for a user who consented to
// part of what was asked (mcp:read, not mcp:tools). A refresh that asked
// for the configured scopes would be refused: "refresh token missing
// requested scope".
func TestConnectAndRefreshAgainstOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logDir := t.TempDir()
	s, err := oidcprovider.Start(ctx, oidcprovider.Options{
		ConsentScopes: []string{"offline_access", "mcp:read"}, LogDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() {
		if t.Failed() {
			log, _ := os.ReadFile(s.LogPath())
			t.Logf("oidc-provider log:\n%s", log)
		}
	}()
	hc := oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})

	d, err := oauth.Discover(ctx, hc, s.MCPURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if d.AuthServer.Issuer != s.Issuer || d.Resource != s.MCPURL || d.Legacy {
		t.Fatalf("discovered issuer %q, resource %q (legacy %v); want %q, %q", d.AuthServer.Issuer, d.Resource, d.Legacy, s.Issuer, s.MCPURL)
	}
	scopes := oauth.DefaultScopes(nil, d)
	if !slices.Equal(scopes, []string{"mcp:read", "mcp:tools", oauth.ScopeOfflineAccess}) {
		t.Fatalf("scopes to request %v", scopes)
	}

	responses := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		responses <- r.URL.Query()
		_, _ = w.Write([]byte("done"))
	}))
	defer cb.Close()
	redirectURI := cb.URL + "/callback/ns/srv"
	cl, err := oauth.Register(ctx, hc, &d.AuthServer, oauth.RegistrationRequest{
		ClientName: "oidc-provider test", RedirectURI: redirectURI, Scopes: scopes})
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	if cl.Method != oauth.MethodDCR || cl.RegistrationClientURI == "" || cl.RegistrationAccessToken == "" {
		t.Errorf("client %+v: want DCR with RFC 7592 management credentials", cl.Method)
	}
	cfg := oauth.FlowConfig{Client: *cl, Endpoint: oauth.EndpointFromMetadata(&d.AuthServer),
		RedirectURI: redirectURI, Resource: d.Resource, Scopes: scopes}

	state, verifier := oauth.NewState(), oauth.NewVerifier()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := browser.Get(oauth.AuthCodeURL(cfg, state, verifier))
	if err != nil {
		t.Fatalf("authorization: %v", err)
	}
	resp.Body.Close()
	var q url.Values
	select {
	case q = <-responses:
	default:
		t.Fatalf("the authorization flow ended at %s (%d), not at the redirect URI", resp.Request.URL.Redacted(), resp.StatusCode)
	}
	code, err := oauth.ParseAuthorizationResponse(cfg, q, state)
	if err != nil {
		t.Fatalf("authorization response: %v", err)
	}
	tok, err := oauth.Exchange(ctx, hc, cfg, code, verifier)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was granted")
	}
	checkAccess(ctx, t, s, tok, "after the code exchange")

	// Two refreshes: each rotates, and the rotated token is the one that works.
	first := tok.RefreshToken
	for i := 1; i <= 2; i++ {
		next, err := oauth.Refresh(ctx, hc, cfg, tok.RefreshToken, cfg.Resource)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh %d did not rotate the refresh token", i)
		}
		checkAccess(ctx, t, s, next, "after refresh")
		tok = next
	}

	// Replaying a rotated refresh token revokes the grant (reuse detection).
	_, err = oauth.Refresh(ctx, hc, cfg, first, cfg.Resource)
	var te *oauth.TokenError
	if !errors.As(err, &te) || !te.IsInvalidGrant() {
		t.Fatalf("replayed refresh token: %v, want invalid_grant", err)
	}
	if _, err := oauth.Refresh(ctx, hc, cfg, tok.RefreshToken, cfg.Resource); !errors.As(err, &te) || !te.IsInvalidGrant() {
		t.Fatalf("refresh after a replay: %v, want invalid_grant (the grant is revoked)", err)
	}
}

// checkAccess: the access token is for the MCP server, carries what the
// user consented to and nothing else, and a tool call with it works.
func checkAccess(ctx context.Context, t *testing.T, s *oidcprovider.Server, tok *oauth.Token, when string) {
	t.Helper()
	if err := s.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("%s: the MCP server refuses the access token: %v", when, err)
	}
	if slices.Contains(tok.Scopes, "mcp:tools") {
		t.Errorf("%s: scope %v holds mcp:tools, which the user did not consent to", when, tok.Scopes)
	}
	res, err := harness.CallTool(ctx, s.MCPURL, http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, oidcprovider.ToolWhoAmI, nil)
	if err != nil {
		t.Fatalf("%s: tool call: %v", when, err)
	}
	if strings.TrimSpace(res.Text) != "op-user" {
		t.Errorf("%s: whoami = %q", when, res.Text)
	}
}
