package fakeauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthorizeValidation(t *testing.T) {
	s := newServer(t, Options{SeparateOrigins: true, ISSParameter: true})
	c := registerClient(t, s, AuthNone)
	tests := []struct {
		name     string
		mutate   func(q url.Values)
		redirect bool   // false: 400 without redirecting
		errCode  string // error in the redirect
	}{
		{"valid", func(url.Values) {}, true, ""},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request"},
		{"method omitted", func(q url.Values) { q.Del("code_challenge_method") }, true, "invalid_request"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, true, "invalid_request"},
		{"token response type", func(q url.Values) { q.Set("response_type", "token") }, true, "unsupported_response_type"},
		{"no resource", func(q url.Values) { q.Del("resource") }, true, "invalid_target"},
		{"wrong resource", func(q url.Values) { q.Set("resource", s.MCPURL()+"/") }, true, "invalid_target"},
		{"two resources", func(q url.Values) { q.Add("resource", s.MCPURL()) }, true, "invalid_target"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "mcp:read root") }, true, "invalid_scope"},
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, false, ""},
		{"redirect mismatch", func(q url.Values) { q.Set("redirect_uri", testRedirect+"/") }, false, ""},
		{"repeated state", func(q url.Values) { q.Add("state", "x") }, false, ""},
	}
	for _, tt := range tests {
		q := authorizeParams(s, c, newPKCE())
		tt.mutate(q)
		resp, rq := authorize(t, s, q)
		if !tt.redirect {
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400 without redirect", tt.name, resp.StatusCode)
			}
			continue
		}
		if rq == nil {
			t.Errorf("%s: status %d, want a redirect", tt.name, resp.StatusCode)
			continue
		}
		if rq.Get("error") != tt.errCode || rq.Get("state") != "st-1" || rq.Get("iss") != s.IssuerURL() {
			t.Errorf("%s: redirect query %v, want error %q with state and iss", tt.name, rq, tt.errCode)
		}
		if (tt.errCode == "") != (rq.Get("code") != "") {
			t.Errorf("%s: code presence wrong in %v", tt.name, rq)
		}
	}
}

func TestAuthorizeResourceOptionalAndScopes(t *testing.T) {
	s := newServer(t, Options{ResourceOptional: true, OfflineAccess: true})
	c := registerClient(t, s, AuthNone)
	q := authorizeParams(s, c, newPKCE())
	q.Del("resource")
	q.Set("scope", "mcp:read offline_access")
	if _, rq := authorize(t, s, q); rq.Get("code") == "" || rq.Has("iss") {
		t.Errorf("want a code and no iss (not advertised): %v", rq)
	}
	q.Set("resource", "http://other.example/mcp")
	if _, rq := authorize(t, s, q); rq.Get("error") != "invalid_target" {
		t.Errorf("wrong resource with ResourceOptional: %v", rq)
	}
}

// Entra since March 2026: any resource on authorize is refused; without
// one the grant is the MCP server's, and its code is redeemed without one.
func TestAuthorizeRejectResourceOnAuthorize(t *testing.T) {
	s := newServer(t, Options{RejectResourceOnAuthorize: true})
	c := registerClient(t, s, AuthNone)
	p := newPKCE()
	q := authorizeParams(s, c, p)
	q.Set("prompt", "consent")
	if _, rq := authorize(t, s, q); rq.Get("error") != "invalid_target" || !strings.Contains(rq.Get("error_description"), "AADSTS9010010") {
		t.Errorf("resource on authorize: %v, want invalid_target AADSTS9010010", rq)
	}
	if got := s.LastAuthorizeRequest(); got.Get("prompt") != "consent" || got.Get("resource") != s.MCPURL() {
		t.Errorf("LastAuthorizeRequest = %v", got)
	}
	q.Del("resource")
	_, rq := authorize(t, s, q)
	if rq.Get("code") == "" {
		t.Fatalf("no resource: %v, want a code", rq)
	}
	resp, body := tokenRequest(t, s, c, url.Values{"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
		"redirect_uri": {testRedirect}, "code_verifier": {p.verifier}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("exchange without resource: %d %v", resp.StatusCode, body)
	}
}

// An audience-requiring server (Atlassian, Auth0 for APIs) refuses an
// authorization request without its audience.
func TestAuthorizeRequireAudience(t *testing.T) {
	s := newServer(t, Options{RequireAudience: "api.example.com"})
	c := registerClient(t, s, AuthNone)
	q := authorizeParams(s, c, newPKCE())
	if _, rq := authorize(t, s, q); rq.Get("error") != "invalid_request" || !strings.Contains(rq.Get("error_description"), "audience") {
		t.Errorf("no audience: %v, want invalid_request naming audience", rq)
	}
	q.Set("audience", "api.example.com")
	if _, rq := authorize(t, s, q); rq.Get("code") == "" {
		t.Errorf("with the audience: %v, want a code", rq)
	}
}

// An alias (Entra's api://<app-id>) is accepted and binds the grant to it.
func TestAuthorizeResourceAlias(t *testing.T) {
	const alias = "api://fake-app"
	s := newServer(t, Options{ResourceAliases: []string{alias}})
	c := registerClient(t, s, AuthNone)
	p := newPKCE()
	q := authorizeParams(s, c, p)
	q.Set("resource", alias)
	_, rq := authorize(t, s, q)
	if rq.Get("code") == "" {
		t.Fatalf("alias: %v, want a code", rq)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
		"redirect_uri": {testRedirect}, "code_verifier": {p.verifier}, "resource": {s.MCPURL()}}
	if resp, _ := tokenRequest(t, s, c, form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("exchange for the MCP URL of an alias grant: %d, want 400", resp.StatusCode)
	}
	if _, err := s.IssueTokensFor(c.ID, "api://other"); err == nil {
		t.Error("IssueTokensFor an unknown resource succeeded")
	}
}

func TestCIMDClientAcceptedWithoutFetching(t *testing.T) {
	s := newServer(t, Options{CIMD: true})
	cimd := Client{ID: "https://app.example.com/oauth/client.json", AuthMethod: AuthNone}
	tokens := codeFlow(t, s, cimd, nil)
	if str(tokens, "access_token") == "" || str(tokens, "refresh_token") == "" {
		t.Fatalf("tokens %v", tokens)
	}
	got, ok := s.Client(cimd.ID)
	if !ok || !got.CIMD || got.RedirectURIs[0] != testRedirect {
		t.Errorf("CIMD client not recorded: %+v", got)
	}
	// Without a path the URL is not a client ID document; without CIMD none are.
	q := authorizeParams(s, Client{ID: "https://app.example.com"}, newPKCE())
	if r, _ := authorize(t, s, q); r.StatusCode != http.StatusBadRequest {
		t.Errorf("root URL client_id: %d", r.StatusCode)
	}
	s2 := newServer(t, Options{})
	if r, _ := authorize(t, s2, authorizeParams(s2, cimd, newPKCE())); r.StatusCode != http.StatusBadRequest {
		t.Errorf("CIMD client without CIMD support: %d", r.StatusCode)
	}
}
