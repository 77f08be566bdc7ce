package fakeauth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestDCRThenRFC7592ReadAndDelete(t *testing.T) {
	s := newServer(t, Options{SeparateOrigins: true})
	resp, reg := register(t, s, map[string]any{
		"redirect_uris":              []string{testRedirect},
		"token_endpoint_auth_method": "client_secret_post",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"application_type":           "native",
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %v", resp.StatusCode, reg)
	}
	for _, k := range []string{"client_id", "client_secret", "registration_access_token", "registration_client_uri"} {
		if str(reg, k) == "" {
			t.Errorf("registration response lacks %s", k)
		}
	}
	if str(reg, "token_endpoint_auth_method") != AuthPost {
		t.Errorf("auth method = %v", reg["token_endpoint_auth_method"])
	}
	if s.RegisteredClientCount() != 1 {
		t.Fatalf("RegisteredClientCount = %d", s.RegisteredClientCount())
	}
	clientURI, rat := str(reg, "registration_client_uri"), str(reg, "registration_access_token")

	withRAT := func(method, tok string) *http.Response {
		req, _ := http.NewRequest(method, clientURI, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		r, _ := do(t, req)
		return r
	}
	if r := withRAT(http.MethodGet, ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without RAT: %d", r.StatusCode)
	}
	if r := withRAT(http.MethodDelete, "wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("DELETE with wrong RAT: %d", r.StatusCode)
	}
	if r := withRAT(http.MethodGet, rat); r.StatusCode != http.StatusOK {
		t.Errorf("GET with RAT: %d", r.StatusCode)
	}

	c, _ := s.Client(str(reg, "client_id"))
	tokens := codeFlow(t, s, c, nil)
	if r := withRAT(http.MethodDelete, rat); r.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	if s.RegisteredClientCount() != 0 {
		t.Errorf("client still registered after DELETE")
	}
	if s.GrantAlive(str(tokens, "refresh_token")) {
		t.Error("grant survived client deletion")
	}
	if r, m := refresh(t, s, c, str(tokens, "refresh_token")); r.StatusCode != http.StatusUnauthorized || str(m, "error") != "invalid_client" {
		t.Errorf("refresh after delete: %d %v, want 401 invalid_client", r.StatusCode, m)
	}
	if r := withRAT(http.MethodGet, rat); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET after DELETE: %d", r.StatusCode)
	}
	cn := s.Counters()
	if cn.Register != 1 || cn.RegistrationRead != 3 || cn.RegistrationDelete != 2 {
		t.Errorf("counters %+v", cn)
	}
}

func TestDCRRejectsBadMetadata(t *testing.T) {
	s := newServer(t, Options{})
	tests := []struct {
		name string
		body map[string]any
		code string
	}{
		{"no redirect URIs", map[string]any{}, "invalid_redirect_uri"},
		{"plain http non-loopback", map[string]any{"redirect_uris": []string{"http://example.com/cb"}}, "invalid_redirect_uri"},
		{"fragment", map[string]any{"redirect_uris": []string{"https://example.com/cb#x"}}, "invalid_redirect_uri"},
		{"relative", map[string]any{"redirect_uris": []string{"/cb"}}, "invalid_redirect_uri"},
		{"custom scheme for web", map[string]any{"redirect_uris": []string{"com.example:/cb"}}, "invalid_redirect_uri"},
		{"unknown auth method", map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
		{"unknown grant type", map[string]any{"redirect_uris": []string{testRedirect}, "grant_types": []string{"password"}}, "invalid_client_metadata"},
		{"implicit", map[string]any{"redirect_uris": []string{testRedirect}, "response_types": []string{"token"}}, "invalid_client_metadata"},
		{"bad application_type", map[string]any{"redirect_uris": []string{testRedirect}, "application_type": "desktop"}, "invalid_client_metadata"},
	}
	for _, tt := range tests {
		resp, m := register(t, s, tt.body)
		if resp.StatusCode != http.StatusBadRequest || str(m, "error") != tt.code {
			t.Errorf("%s: %d %v, want 400 %s", tt.name, resp.StatusCode, m, tt.code)
		}
	}
	if s.RegisteredClientCount() != 0 {
		t.Errorf("rejected registrations were stored")
	}
	// Defaults: client_secret_basic, and a secret; native custom schemes are fine.
	resp, m := register(t, s, map[string]any{"redirect_uris": []string{"com.example.app:/cb"}, "application_type": "native"})
	if resp.StatusCode != http.StatusCreated || str(m, "token_endpoint_auth_method") != AuthBasic || str(m, "client_secret") == "" {
		t.Errorf("default registration: %d %v", resp.StatusCode, m)
	}
	// A public client gets no secret.
	if _, m := register(t, s, map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none"}); str(m, "client_secret") != "" {
		t.Errorf("public client got a secret")
	}
}

func TestDCRAuthMethodOverride(t *testing.T) {
	s := newServer(t, Options{DCRAuthMethod: AuthPost})
	c := registerClient(t, s, AuthBasic)
	if c.AuthMethod != AuthPost {
		t.Fatalf("auth method = %s, want the server-assigned %s", c.AuthMethod, AuthPost)
	}
	// Using the method the client asked for, not the one returned, fails.
	asked := c
	asked.AuthMethod = AuthBasic
	if r, m := tokenRequest(t, s, asked, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}); r.StatusCode != http.StatusUnauthorized || str(m, "error") != "invalid_client" {
		t.Errorf("basic for a post client: %d %v", r.StatusCode, m)
	}
}

func TestRevokeClientSimulatesProviderDeletion(t *testing.T) {
	s := newServer(t, Options{})
	c := registerClient(t, s, AuthBasic)
	tokens := codeFlow(t, s, c, nil)
	if !s.RevokeClient(c.ID) {
		t.Fatal("RevokeClient: client not found")
	}
	r, m := refresh(t, s, c, str(tokens, "refresh_token"))
	if r.StatusCode != http.StatusUnauthorized || str(m, "error") != "invalid_client" {
		t.Errorf("refresh: %d %v, want 401 invalid_client", r.StatusCode, m)
	}
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 for a Basic-authenticated client lacks WWW-Authenticate")
	}
	if mcpStatus(t, s, str(tokens, "access_token")).StatusCode != http.StatusUnauthorized {
		t.Error("access token of a deleted client still accepted")
	}
	if r, _ := authorize(t, s, authorizeParams(s, c, newPKCE())); r.StatusCode != http.StatusBadRequest {
		t.Errorf("authorize for a deleted client: %d, want 400 without redirect", r.StatusCode)
	}
}
