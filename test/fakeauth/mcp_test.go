package fakeauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

func TestMCPBearerChallenges(t *testing.T) {
	s := newServer(t, Options{SeparateOrigins: true})
	prm := s.Endpoints().ResourceMetadata
	r := mcpStatus(t, s, "")
	want := fmt.Sprintf(`Bearer resource_metadata=%q, scope="mcp:read mcp:tools"`, prm)
	if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != want {
		t.Errorf("no token: %d %q, want %q", r.StatusCode, r.Header.Get("WWW-Authenticate"), want)
	}
	r = mcpStatus(t, s, "at-forged")
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token", resource_metadata=`) {
		t.Errorf("bad token: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	c := registerClient(t, s, AuthNone)
	m := codeFlow(t, s, c, nil)
	if mcpStatus(t, s, str(m, "refresh_token")).StatusCode != http.StatusUnauthorized {
		t.Error("refresh token accepted as a bearer token")
	}
	req, _ := http.NewRequest(http.MethodGet, s.MCPURL()+"?access_token="+url.QueryEscape(str(m, "access_token")), nil)
	if r, _ := do(t, req); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("token in query string accepted: %d", r.StatusCode)
	}
	if mcpStatus(t, s, str(m, "access_token")).StatusCode != http.StatusOK {
		t.Error("valid token rejected")
	}
	if cn := s.Counters(); cn.MCP != 5 || cn.MCPUnauthorized != 4 {
		t.Errorf("counters %+v", cn)
	}
}

// bearerTransport adds a fixed bearer token.
type bearerTransport struct{ tok string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

func connect(t *testing.T, ctx context.Context, s *Server, tr *mcp.StreamableClientTransport) *mcp.ClientSession {
	t.Helper()
	tr.Endpoint = s.MCPURL()
	tr.DisableStandaloneSSE = true
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fakeauth-test", Version: "1"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callText(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (string, error) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	if res.IsError || len(res.Content) == 0 {
		return "", fmt.Errorf("tool error: %+v", res.Content)
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

func TestMCPToolsWithBearerToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newServer(t, Options{SeparateOrigins: true})
	c := s.AddClient(Client{RedirectURIs: []string{testRedirect}})
	tok, _ := s.IssueTokens(c.ID)
	cs := connect(t, ctx, s, &mcp.StreamableClientTransport{HTTPClient: &http.Client{Transport: bearerTransport{tok.AccessToken}}})
	if cs.InitializeResult().ServerInfo.Name != ServerName {
		t.Errorf("server name %q", cs.InitializeResult().ServerInfo.Name)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 3 {
		t.Fatalf("tools: %v %v", tools, err)
	}
	if got, err := callText(t, ctx, cs, ToolTest, nil); err != nil || got != "ok (user fake-user)" {
		t.Errorf("test-tool: %q %v", got, err)
	}
	if got, err := callText(t, ctx, cs, ToolEcho, map[string]any{"message": "hi"}); err != nil || got != "hi" {
		t.Errorf("echo: %q %v", got, err)
	}
	if _, err := callText(t, ctx, cs, ToolAdmin, nil); err == nil {
		t.Error("admin-tool without the step-up scope succeeded")
	}
	if cn := s.Counters(); cn.ToolCalls != 2 || cn.MCPForbidden != 1 {
		t.Errorf("counters %+v", cn)
	}
}

// TestSDKClientEndToEnd drives the fake with the go-sdk's own OAuth client:
// PRM discovery, AS metadata with an issuer path, DCR, PKCE, resource, RFC
// 9207 iss, then a step-up on 403 insufficient_scope.
func TestSDKClientEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newServer(t, Options{SeparateOrigins: true, IssuerPath: "/tenant1", ISSParameter: true})
	fetch := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, args.URL, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			return nil, fmt.Errorf("authorize: %d %q", resp.StatusCode, loc.Query().Get("error_description"))
		}
		q := loc.Query()
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				RedirectURIs:            []string{testRedirect},
				TokenEndpointAuthMethod: "client_secret_basic",
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ClientName:              "sdk-e2e",
			},
		},
		AuthorizationCodeFetcher: fetch,
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, ctx, s, &mcp.StreamableClientTransport{OAuthHandler: h})
	if got, err := callText(t, ctx, cs, ToolTest, nil); err != nil || got != "ok (user fake-user)" {
		t.Fatalf("test-tool: %q %v", got, err)
	}
	if got, err := callText(t, ctx, cs, ToolAdmin, nil); err != nil || got != "admin ok (user fake-user)" {
		t.Fatalf("admin-tool after step-up: %q %v", got, err)
	}
	cn := s.Counters()
	// The SDK registers anew on each authorization round.
	if cn.Register < 1 || cn.TokenCode != 2 || cn.MCPForbidden != 1 || cn.PRM == 0 || cn.ASMetadata == 0 {
		t.Errorf("counters %+v", cn)
	}
}

// A ModernOnly server refuses a 2025-11-25 client before looking at its
// token, and serves a 2026-07-28 one.
func TestMCPModernOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newServer(t, Options{SeparateOrigins: true, ModernOnly: true})
	c := s.AddClient(Client{RedirectURIs: []string{testRedirect}})
	tok, _ := s.IssueTokens(c.ID)
	hc := &http.Client{Transport: bearerTransport{tok.AccessToken}}

	legacy := &mcp.StreamableClientTransport{Endpoint: s.MCPURL(), HTTPClient: hc, DisableStandaloneSSE: true}
	_, err := mcp.NewClient(&mcp.Implementation{Name: "legacy", Version: "1"}, nil).
		Connect(ctx, legacy, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err == nil || s.Counters().MCPLegacyRefused == 0 {
		t.Fatalf("a 2025-11-25 client connected (err %v, counters %+v)", err, s.Counters())
	}

	cs := connect(t, ctx, s, &mcp.StreamableClientTransport{HTTPClient: hc})
	if v := cs.InitializeResult().ProtocolVersion; v != modernVersion {
		t.Errorf("negotiated %q, want %s", v, modernVersion)
	}
	if got, err := callText(t, ctx, cs, ToolTest, nil); err != nil || got != "ok (user fake-user)" {
		t.Errorf("test-tool: %q %v", got, err)
	}
}
