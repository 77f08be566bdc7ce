package oauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

// Benchmarks of the OAuth client's hot paths; run them with `make bench`.
// The network ones talk to in-process servers on 127.0.0.1, so they measure
// our code plus loopback HTTP, not a provider's latency.

// benchFlowConfig is a realistic flow configuration for the pure benchmarks.
func benchFlowConfig() FlowConfig {
	return FlowConfig{
		Client: Client{ClientID: "mcp-operator-client-0123456789", ClientSecret: "cs-secret", TokenEndpointAuthMethod: AuthMethodClientSecretBasic},
		Endpoint: Endpoint{
			Issuer:                "https://auth.example.com/tenant1",
			AuthorizationEndpoint: "https://auth.example.com/tenant1/authorize",
			TokenEndpoint:         "https://auth.example.com/tenant1/token",
			ISSParameterSupported: true,
		},
		RedirectURI: "https://mcp-callback.example.com/callback/chat/github",
		Resource:    "https://mcp.example.com/mcp",
		Scopes:      []string{"mcp:read", "mcp:tools", "offline_access"},
	}
}

// BenchmarkDiscover is a full discovery per op: the unauthenticated MCP
// initialize probe (401 challenge), the protected resource metadata and the
// authorization server metadata, over keep-alive loopback connections.
func BenchmarkDiscover(b *testing.B) {
	s := fakeauth.New(fakeauth.Options{})
	defer s.Close()
	c := testClient()
	ctx := context.Background()
	if _, err := Discover(ctx, c, s.MCPURL()); err != nil {
		b.Fatalf("Discover: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Discover(ctx, c, s.MCPURL()); err != nil {
			b.Fatalf("Discover: %v", err)
		}
	}
}

func BenchmarkAuthCodeURL(b *testing.B) {
	cfg := benchFlowConfig()
	state, verifier := NewState(), NewVerifier()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = AuthCodeURL(cfg, state, verifier)
	}
}

// BenchmarkCheckIssuerParameter covers the normal answer (iss matches) and
// a mix-up attempt (iss differs: an *Error is built).
func BenchmarkCheckIssuerParameter(b *testing.B) {
	cfg := benchFlowConfig()
	b.Run("match", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := CheckIssuerParameter(cfg, cfg.Endpoint.Issuer, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mismatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := CheckIssuerParameter(cfg, "https://evil.example.com", true); err == nil {
				b.Fatal("mismatch accepted")
			}
		}
	})
}

// BenchmarkRefresh is one refresh_token grant per op against fakeauth with
// rotation on: each op redeems the refresh token the previous op got, as the
// refresher does, with client_secret_basic and the RFC 8707 resource.
func BenchmarkRefresh(b *testing.B) {
	s := fakeauth.New(fakeauth.Options{})
	defer s.Close()
	fc := s.AddClient(fakeauth.Client{})
	toks, err := s.IssueTokens(fc.ID)
	if err != nil || toks.RefreshToken == "" {
		b.Fatalf("IssueTokens: %v (refresh token issued: %t)", err, toks.RefreshToken != "")
	}
	ep := s.Endpoints()
	cfg := FlowConfig{
		Client:   Client{ClientID: fc.ID, ClientSecret: fc.Secret, TokenEndpointAuthMethod: AuthMethodClientSecretBasic},
		Endpoint: Endpoint{Issuer: ep.Issuer, AuthorizationEndpoint: ep.Authorization, TokenEndpoint: ep.Token},
		Resource: ep.MCP,
		Scopes:   s.Options().Scopes,
	}
	c := testClient()
	ctx := context.Background()
	rt := toks.RefreshToken
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tok, err := Refresh(ctx, c, cfg, rt, cfg.Resource)
		if err != nil {
			b.Fatalf("Refresh: %v", err)
		}
		if tok.RefreshToken == "" {
			b.Fatal("refresh token was not rotated")
		}
		rt = tok.RefreshToken
	}
}

// BenchmarkHTTPClient compares one small GET through the egress-guarded
// client with the same GET through a plain http.Client; the difference is
// the guard's overhead (URL and address checks, instrumentation, body cap).
// Both reuse keep-alive connections, so the dial-time check is rare.
func BenchmarkHTTPClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	run := func(b *testing.B, c *http.Client) {
		get := func() {
			resp, err := c.Get(srv.URL)
			if err != nil {
				b.Fatalf("GET: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		get() // open the connection outside the timed loop
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			get()
		}
	}
	b.Run("guarded", func(b *testing.B) { run(b, NewHTTPClient(testPolicy)) })
	b.Run("plain", func(b *testing.B) { run(b, &http.Client{Transport: &http.Transport{}}) })
}
