package main

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

// The client runs end to end against the project's fake authorization and
// MCP server (no Node needed): discovery, DCR, authorization, exchange,
// tools/list and tools/call, at both wire versions.
func TestRunAgainstFakeAuth(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			s := fakeauth.New(fakeauth.Options{SeparateOrigins: true, ISSParameter: true})
			t.Cleanup(s.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := run(ctx, config{ServerURL: s.MCPURL(), ProtocolVersion: version}); err != nil {
				t.Fatal(err)
			}
			c := s.Counters()
			if c.Register != 1 || c.Authorize != 1 || c.TokenCode != 1 || c.ToolCalls != 1 {
				t.Errorf("counters = %+v, want one registration, authorization, code exchange and tool call", c)
			}
		})
	}
}

// A 401 on an expired token with the same authorization server takes the
// refresher's path (oauth.Refresh), not a new authorization.
func TestExpiredTokenIsRefreshed(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	s := fakeauth.New(fakeauth.Options{AccessTokenTTL: time.Minute, Clock: clock.now})
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := config{ServerURL: s.MCPURL(), ProtocolVersion: "2025-11-25"}
	a := newAuthorizer(cfg)
	if err := a.connect(ctx); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Minute)
	if err := useServer(ctx, cfg, a); err != nil {
		t.Fatal(err)
	}
	c := s.Counters()
	if c.TokenRefresh != 1 || c.Authorize != 1 || c.Register != 1 {
		t.Errorf("counters = %+v, want one refresh and no second authorization or registration", c)
	}
}

// A pre-registered client bound to another issuer is not used there.
func TestPreRegisteredClientIsBoundToItsIssuer(t *testing.T) {
	s := fakeauth.New(fakeauth.Options{})
	t.Cleanup(s.Close)
	s.AddClient(fakeauth.Client{ID: "static", Secret: "static-secret", AuthMethod: fakeauth.AuthBasic,
		RedirectURIs: []string{redirectURI}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	cfg := config{ServerURL: s.MCPURL(), ProtocolVersion: "2025-11-25"}
	cfg.PreRegistered = staticClient("static", "static-secret", s.IssuerURL())
	if err := run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if n := s.Counters().Register; n != 0 {
		t.Errorf("%d registrations with a pre-registered client, want 0", n)
	}

	cfg.PreRegistered = staticClient("static", "static-secret", "https://other.example.com")
	if err := run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if n := s.Counters().Register; n != 1 {
		t.Errorf("%d registrations with a client of another issuer, want 1", n)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("MCP_CONFORMANCE_PROTOCOL_VERSION", "2026-07-28")
	t.Setenv("MCP_CONFORMANCE_CONTEXT", `{"name":"auth/pre-registration","client_id":"id","client_secret":"s","issuer":"http://127.0.0.1:1"}`)
	cfg, err := loadConfig("http://127.0.0.1:2/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProtocolVersion != "2026-07-28" || cfg.PreRegistered == nil || cfg.PreRegistered.ClientID != "id" ||
		cfg.PreRegistered.ClientSecret != "s" || cfg.PreRegistered.Issuer != "http://127.0.0.1:1" {
		t.Errorf("cfg = %+v", cfg)
	}
	t.Setenv("MCP_CONFORMANCE_CONTEXT", `not json`)
	if _, err := loadConfig("http://127.0.0.1:2/mcp"); err == nil {
		t.Error("want an error for a malformed context")
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A 403 insufficient_scope is answered with one step-up authorization for
// the union of the scopes asked so far and the challenged one; the call is
// then retried and succeeds.
func TestStepUpOnInsufficientScope(t *testing.T) {
	s := fakeauth.New(fakeauth.Options{StepUpScope: "mcp:admin"})
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := config{ServerURL: s.MCPURL(), ProtocolVersion: "2025-11-25"}
	a := newAuthorizer(cfg)
	if err := a.connect(ctx); err != nil {
		t.Fatal(err)
	}
	session, err := newSession(ctx, cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = session.Close() }()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: fakeauth.ToolAdmin, Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("admin-tool: res=%+v err=%v", res, err)
	}
	c := s.Counters()
	if c.MCPForbidden != 1 || c.Authorize != 2 || c.Register != 1 {
		t.Errorf("counters = %+v, want one 403, two authorizations, one registration", c)
	}
	if want := []string{"mcp:read", "mcp:tools", "mcp:admin"}; !slices.Equal(a.flow.Scopes, want) {
		t.Errorf("scopes after step-up = %v, want %v", a.flow.Scopes, want)
	}
}
