package fakeauth

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startCode returns a fresh code for c and its PKCE pair.
func startCode(t *testing.T, s *Server, c Client) (string, pkce) {
	t.Helper()
	p := newPKCE()
	_, rq := authorize(t, s, authorizeParams(s, c, p))
	if rq.Get("code") == "" {
		t.Fatalf("no code: %v", rq)
	}
	return rq.Get("code"), p
}

func codeForm(s *Server, code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {testRedirect}, "resource": {s.MCPURL()},
	}
}

func TestCodeExchangeEnforcesPKCEAndBindings(t *testing.T) {
	s := newServer(t, Options{})
	c := registerClient(t, s, AuthBasic)
	tests := []struct {
		name   string
		mutate func(f url.Values)
		status int
		code   string
	}{
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", newPKCE().verifier) }, 400, "invalid_grant"},
		{"malformed verifier", func(f url.Values) { f.Set("code_verifier", "short") }, 400, "invalid_grant"},
		{"wrong redirect_uri", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:7777/other") }, 400, "invalid_grant"},
		{"missing redirect_uri", func(f url.Values) { f.Del("redirect_uri") }, 400, "invalid_grant"},
		{"missing resource", func(f url.Values) { f.Del("resource") }, 400, "invalid_request"},
		{"wrong resource", func(f url.Values) { f.Set("resource", "http://127.0.0.1:1/mcp") }, 400, "invalid_target"},
		{"unknown code", func(f url.Values) { f.Set("code", "code-nope") }, 400, "invalid_grant"},
		{"no grant type", func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request"},
		{"password grant", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		code, p := startCode(t, s, c)
		f := codeForm(s, code, p.verifier)
		tt.mutate(f)
		if r, m := tokenRequest(t, s, c, f); r.StatusCode != tt.status || str(m, "error") != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, r.StatusCode, m, tt.status, tt.code)
		}
	}
	if got := s.Counters().TokenErrors; got != len(tests) {
		t.Errorf("TokenErrors = %d, want %d", got, len(tests))
	}
}

func TestCodeIsSingleUseAndReplayRevokesGrant(t *testing.T) {
	s := newServer(t, Options{})
	c := registerClient(t, s, AuthNone)
	code, p := startCode(t, s, c)
	r, tokens := tokenRequest(t, s, c, codeForm(s, code, p.verifier))
	if r.StatusCode != http.StatusOK || str(tokens, "token_type") != "Bearer" || tokens["expires_in"] != float64(3600) {
		t.Fatalf("exchange: %d %v", r.StatusCode, tokens)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("token response is cacheable")
	}
	if r, m := tokenRequest(t, s, c, codeForm(s, code, p.verifier)); r.StatusCode != 400 || str(m, "error") != "invalid_grant" {
		t.Errorf("replayed code: %d %v", r.StatusCode, m)
	}
	if s.GrantAlive(str(tokens, "access_token")) || s.Counters().CodeReplayed != 1 {
		t.Error("code replay did not revoke the grant")
	}
}

func TestCodeExpires(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := newServer(t, Options{Clock: clk.Now})
	c := registerClient(t, s, AuthNone)
	code, p := startCode(t, s, c)
	clk.Advance(2 * time.Minute)
	if r, m := tokenRequest(t, s, c, codeForm(s, code, p.verifier)); str(m, "error") != "invalid_grant" {
		t.Errorf("expired code: %d %v", r.StatusCode, m)
	}
}

func TestClientAuthenticationPerRegisteredMethod(t *testing.T) {
	s := newServer(t, Options{})
	for _, method := range []string{AuthNone, AuthBasic, AuthPost} {
		c := registerClient(t, s, method)
		for _, used := range []string{AuthNone, AuthBasic, AuthPost} {
			code, p := startCode(t, s, c)
			as := c
			as.AuthMethod = used
			r, m := tokenRequest(t, s, as, codeForm(s, code, p.verifier))
			if used == method && r.StatusCode != http.StatusOK {
				t.Errorf("registered %s, used %s: %d %v", method, used, r.StatusCode, m)
			}
			if used != method && (r.StatusCode != http.StatusUnauthorized || str(m, "error") != "invalid_client") {
				t.Errorf("registered %s, used %s: %d %v, want 401 invalid_client", method, used, r.StatusCode, m)
			}
		}
		if method != AuthNone {
			code, p := startCode(t, s, c)
			bad := c
			bad.Secret = "wrong"
			if r, _ := tokenRequest(t, s, bad, codeForm(s, code, p.verifier)); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with a wrong secret: %d", method, r.StatusCode)
			}
		}
	}
	unknown := Client{ID: "ghost", AuthMethod: AuthNone}
	if r, m := tokenRequest(t, s, unknown, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}); r.StatusCode != 401 || str(m, "error") != "invalid_client" {
		t.Errorf("unknown client: %d %v", r.StatusCode, m)
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	s := newServer(t, Options{SeparateOrigins: true})
	c := registerClient(t, s, AuthBasic)
	first := codeFlow(t, s, c, nil)
	rt1 := str(first, "refresh_token")

	r, second := refresh(t, s, c, rt1)
	rt2 := str(second, "refresh_token")
	if r.StatusCode != http.StatusOK || rt2 == "" || rt2 == rt1 || str(second, "access_token") == "" {
		t.Fatalf("refresh: %d, rotated=%v", r.StatusCode, rt2 != rt1)
	}
	if mcpStatus(t, s, str(second, "access_token")).StatusCode != http.StatusOK {
		t.Fatal("refreshed access token rejected")
	}
	// Replaying the rotated token: invalid_grant, and the whole grant dies.
	if r, m := refresh(t, s, c, rt1); r.StatusCode != 400 || str(m, "error") != "invalid_grant" {
		t.Fatalf("replay: %d %v", r.StatusCode, m)
	}
	if s.Counters().ReuseDetected != 1 || s.GrantAlive(rt2) {
		t.Errorf("reuse not detected: %+v", s.Counters())
	}
	if r, m := refresh(t, s, c, rt2); str(m, "error") != "invalid_grant" {
		t.Errorf("newest refresh token after reuse: %d %v", r.StatusCode, m)
	}
	for _, at := range []string{str(first, "access_token"), str(second, "access_token")} {
		if mcpStatus(t, s, at).StatusCode != http.StatusUnauthorized {
			t.Error("access token of a revoked grant accepted")
		}
	}
	if cn := s.Counters(); cn.TokenCode != 1 || cn.TokenRefresh != 3 {
		t.Errorf("counters %+v", cn)
	}
}

func TestRefreshVariants(t *testing.T) {
	t.Run("no rotation keeps the token", func(t *testing.T) {
		s := newServer(t, Options{DisableRefreshRotation: true})
		c := registerClient(t, s, AuthPost)
		rt := str(codeFlow(t, s, c, nil), "refresh_token")
		for range 2 {
			if r, m := refresh(t, s, c, rt); r.StatusCode != 200 || str(m, "refresh_token") != "" {
				t.Fatalf("refresh: %d %v", r.StatusCode, m)
			}
		}
	})
	t.Run("no reuse detection", func(t *testing.T) {
		s := newServer(t, Options{DisableReuseDetection: true})
		c := registerClient(t, s, AuthNone)
		rt1 := str(codeFlow(t, s, c, nil), "refresh_token")
		_, m := refresh(t, s, c, rt1)
		if r, e := refresh(t, s, c, rt1); r.StatusCode != 400 || str(e, "error") != "invalid_grant" {
			t.Errorf("replay: %d %v", r.StatusCode, e)
		}
		if !s.GrantAlive(str(m, "refresh_token")) || s.Counters().ReuseDetected != 0 {
			t.Error("grant revoked although reuse detection is off")
		}
	})
	t.Run("resource and scope checks", func(t *testing.T) {
		s := newServer(t, Options{})
		c := registerClient(t, s, AuthNone)
		rt := str(codeFlow(t, s, c, url.Values{"scope": {"mcp:read"}}), "refresh_token")
		cases := []struct {
			form url.Values
			code string
		}{
			{url.Values{"resource": {"http://127.0.0.1:1/mcp"}}, "invalid_target"},
			{url.Values{}, "invalid_request"},
			{url.Values{"resource": {s.MCPURL()}, "scope": {"mcp:tools"}}, "invalid_scope"},
		}
		for _, cs := range cases {
			cs.form.Set("grant_type", "refresh_token")
			cs.form.Set("refresh_token", rt)
			if r, m := tokenRequest(t, s, c, cs.form); str(m, "error") != cs.code {
				t.Errorf("%v: %d %v, want %s", cs.form, r.StatusCode, m, cs.code)
			}
		}
	})
	t.Run("no scope on refresh keeps the grant's; a scope the grant lacks is refused", func(t *testing.T) {
		s := newServer(t, Options{})
		c := registerClient(t, s, AuthNone)
		m := codeFlow(t, s, c, url.Values{"scope": {"mcp:read mcp:admin"}}) // granted after a step-up
		r, m := refresh(t, s, c, str(m, "refresh_token"))
		if r.StatusCode != 200 || str(m, "scope") != "mcp:read mcp:admin" {
			t.Fatalf("refresh without scope: %d %v", r.StatusCode, m)
		}
		if sc, ok := s.AccessTokenScope(str(m, "access_token")); !ok || sc != "mcp:read mcp:admin" {
			t.Errorf("refreshed access token has scope %q (live %v), want the grant's", sc, ok)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(m, "refresh_token")},
			"resource": {s.MCPURL()}, "scope": {"mcp:read mcp:tools"}}
		if r, e := tokenRequest(t, s, c, form); r.StatusCode != 400 || str(e, "error") != "invalid_scope" ||
			str(e, "error_description") != "refresh token missing requested scope" {
			t.Errorf("refresh asking for a scope never granted: %d %v", r.StatusCode, e)
		}
		if _, ok := s.AccessTokenScope("at-unknown"); ok {
			t.Error("an unknown access token has a scope")
		}
	})
	t.Run("refresh tokens need the grant type or offline_access", func(t *testing.T) {
		s := newServer(t, Options{OfflineAccess: true})
		c := registerClient(t, s, AuthNone)
		if m := codeFlow(t, s, c, nil); str(m, "refresh_token") != "" {
			t.Error("refresh token issued without offline_access")
		}
		if m := codeFlow(t, s, c, url.Values{"scope": {"mcp:read offline_access"}}); str(m, "refresh_token") == "" {
			t.Error("no refresh token with offline_access")
		}
		_, reg := register(t, s, map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none"})
		codeOnly, _ := s.Client(str(reg, "client_id"))
		if m := codeFlow(t, s, codeOnly, url.Values{"scope": {"offline_access"}}); str(m, "refresh_token") != "" {
			t.Error("refresh token issued to a client without the refresh_token grant type")
		}
	})
	t.Run("expiry with an injected clock", func(t *testing.T) {
		clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
		s := newServer(t, Options{Clock: clk.Now, AccessTokenTTL: 30 * time.Second, RefreshTokenTTL: time.Hour})
		c := registerClient(t, s, AuthNone)
		m := codeFlow(t, s, c, nil)
		if m["expires_in"] != float64(30) {
			t.Errorf("expires_in = %v", m["expires_in"])
		}
		clk.Advance(31 * time.Second)
		if r := mcpStatus(t, s, str(m, "access_token")); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("expired access token: %d", r.StatusCode)
		}
		clk.Advance(time.Hour)
		if _, e := refresh(t, s, c, str(m, "refresh_token")); str(e, "error") != "invalid_grant" {
			t.Errorf("expired refresh token: %v", e)
		}
	})
}

func TestRevocation(t *testing.T) {
	s := newServer(t, Options{})
	c := registerClient(t, s, AuthBasic)
	m := codeFlow(t, s, c, nil)
	at, rt := str(m, "access_token"), str(m, "refresh_token")
	revoke := func(cl Client, tok string) int {
		r, _ := postForm(t, s.Endpoints().Revocation, cl, url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}})
		return r.StatusCode
	}
	if got := revoke(c, "unknown-token"); got != http.StatusOK {
		t.Errorf("unknown token: %d", got)
	}
	other := registerClient(t, s, AuthNone)
	if revoke(other, rt) != http.StatusOK || !s.GrantAlive(rt) {
		t.Error("another client revoked this client's token")
	}
	bad := c
	bad.Secret = "wrong"
	if got := revoke(bad, rt); got != http.StatusUnauthorized {
		t.Errorf("bad client auth: %d", got)
	}
	if revoke(c, rt) != http.StatusOK || s.GrantAlive(rt) || !s.WasRevoked(rt) || !s.WasRevoked(at) {
		t.Error("refresh token revocation did not revoke the grant")
	}
	if mcpStatus(t, s, at).StatusCode != http.StatusUnauthorized {
		t.Error("access token still accepted")
	}
	if s.Counters().Revoke != 4 {
		t.Errorf("Revoke counter = %d", s.Counters().Revoke)
	}
}

func TestIssueTokensAndStaticClients(t *testing.T) {
	s := newServer(t, Options{DisableDCR: true})
	c := s.AddClient(Client{RedirectURIs: []string{testRedirect}})
	if c.ID == "" || c.Secret == "" || c.AuthMethod != AuthBasic {
		t.Fatalf("AddClient defaults: %+v", c)
	}
	tok, err := s.IssueTokens(c.ID)
	if err != nil || tok.RefreshToken == "" || tok.Scope != "mcp:read mcp:tools" {
		t.Fatalf("IssueTokens: %+v %v", tok, err)
	}
	if r, m := refresh(t, s, c, tok.RefreshToken); r.StatusCode != http.StatusOK {
		t.Errorf("refresh of minted token: %d %v", r.StatusCode, m)
	}
	if _, err := s.IssueTokens("nope"); err == nil {
		t.Error("IssueTokens for an unknown client succeeded")
	}
	if _, err := s.IssueTokens(c.ID, "root"); err == nil {
		t.Error("IssueTokens with an unknown scope succeeded")
	}
	if !s.RevokeGrant(tok.AccessToken) || s.GrantAlive(tok.RefreshToken) {
		t.Error("RevokeGrant did not kill the grant")
	}
	codeFlow(t, s, c, nil) // static clients run the normal flow too
}
