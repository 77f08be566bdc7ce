package fakeauth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const testRedirect = "http://127.0.0.1:7777/callback"

// noRedirect is an HTTP client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func newServer(t *testing.T, o Options) *Server {
	t.Helper()
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	sum := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// do sends a request and decodes a JSON body (if any) into a map.
func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func getJSON(t *testing.T, u string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return do(t, req)
}

func register(t *testing.T, s *Server, body map[string]any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.Endpoints().Registration, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// registerClient registers a DCR client and returns it as the server knows it.
func registerClient(t *testing.T, s *Server, authMethod string) Client {
	t.Helper()
	resp, m := register(t, s, map[string]any{
		"redirect_uris":              []string{testRedirect},
		"token_endpoint_auth_method": authMethod,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"application_type":           "native",
		"client_name":                "test",
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %v", resp.StatusCode, m)
	}
	c, ok := s.Client(m["client_id"].(string))
	if !ok {
		t.Fatal("registered client not found")
	}
	return c
}

// authorizeParams are valid authorization request parameters for c.
func authorizeParams(s *Server, c Client, p pkce) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {testRedirect},
		"code_challenge":        {p.challenge},
		"code_challenge_method": {"S256"},
		"resource":              {s.MCPURL()},
		"state":                 {"st-1"},
	}
}

// authorize sends an authorization request; it returns the response and the
// redirect's query (nil when the server did not redirect).
func authorize(t *testing.T, s *Server, q url.Values) (*http.Response, url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.Endpoints().Authorization+"?"+q.Encode(), nil)
	resp, _ := do(t, req)
	if resp.StatusCode != http.StatusFound {
		return resp, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("bad Location: %v", err)
	}
	return resp, loc.Query()
}

// tokenRequest posts form to the token endpoint authenticating as c.
func tokenRequest(t *testing.T, s *Server, c Client, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	return postForm(t, s.Endpoints().Token, c, form)
}

func postForm(t *testing.T, endpoint string, c Client, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	switch c.AuthMethod {
	case AuthPost:
		f.Set("client_id", c.ID)
		f.Set("client_secret", c.Secret)
	case AuthNone:
		f.Set("client_id", c.ID)
	}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthMethod == AuthBasic {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return do(t, req)
}

// codeFlow runs authorize + code exchange for c and returns the token response.
func codeFlow(t *testing.T, s *Server, c Client, extra url.Values) map[string]any {
	t.Helper()
	p := newPKCE()
	q := authorizeParams(s, c, p)
	for k, v := range extra {
		q[k] = v
	}
	_, redirect := authorize(t, s, q)
	if redirect == nil || redirect.Get("code") == "" {
		t.Fatalf("authorize: no code in %v", redirect)
	}
	resp, m := tokenRequest(t, s, c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {redirect.Get("code")},
		"code_verifier": {p.verifier},
		"redirect_uri":  {testRedirect},
		"resource":      {s.MCPURL()},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	return m
}

func refresh(t *testing.T, s *Server, c Client, rt string) (*http.Response, map[string]any) {
	t.Helper()
	return tokenRequest(t, s, c, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {s.MCPURL()},
	})
}

// mcpStatus posts an MCP initialize request with bearer tok.
func mcpStatus(t *testing.T, s *Server, tok string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, s.MCPURL(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, _ := do(t, req)
	return resp
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}
