package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestNewVerifierAndState(t *testing.T) {
	v1, v2, s1, s2 := NewVerifier(), NewVerifier(), NewState(), NewState()
	if v1 == v2 || s1 == s2 || len(v1) < 43 || len(s1) < 43 {
		t.Errorf("weak randomness: %q %q %q %q", v1, v2, s1, s2)
	}
}

func TestAuthCodeURL(t *testing.T) {
	cfg := FlowConfig{
		Client:      Client{ClientID: "client-1", ClientSecret: "never-in-url", TokenEndpointAuthMethod: AuthMethodClientSecretBasic},
		Endpoint:    Endpoint{AuthorizationEndpoint: "https://as.example/authorize?tenant=t1"},
		RedirectURI: "https://chat.example/cb/github",
		Resource:    "https://mcp.example/mcp",
		Scopes:      []string{"repo", "read:org", "repo"},
	}
	verifier := NewVerifier()
	raw := AuthCodeURL(cfg, "state-1", verifier)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"tenant": "t1", "response_type": "code", "client_id": "client-1", "redirect_uri": cfg.RedirectURI,
		"scope": "repo read:org", "state": "state-1", "resource": cfg.Resource,
		"code_challenge_method": "S256", "code_challenge": oauth2.S256ChallengeFromVerifier(verifier),
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	mustNotContain(t, raw, "never-in-url", verifier)
	if _, err := base64.RawURLEncoding.DecodeString(q.Get("code_challenge")); err != nil {
		t.Error(err)
	}
	cfg.Scopes, cfg.Resource = nil, ""
	q2, _ := url.Parse(AuthCodeURL(cfg, "s", verifier))
	if q2.Query().Has("scope") || q2.Query().Has("resource") {
		t.Error("empty scope/resource must be omitted")
	}
}

// Additional parameters go on the authorization request, but never in
// place of one the flow sets itself, whatever their letter case.
func TestAuthCodeURLAdditionalParameters(t *testing.T) {
	cfg := FlowConfig{
		Client:      Client{ClientID: "client-1"},
		Endpoint:    Endpoint{AuthorizationEndpoint: "https://as.example/authorize"},
		RedirectURI: "https://chat.example/cb/github",
		Scopes:      []string{"repo"},
		AuthorizationParameters: map[string]string{
			"access_type": "offline", "prompt": "consent", "audience": "https://api.example",
			"state": "forged", "Scope": "admin", "resource": "https://evil.example", "redirect_uri": "https://evil.example/cb",
			"response_mode": "form_post", "request_uri": "urn:x", "CODE_CHALLENGE_METHOD": "plain",
		},
	}
	u, err := url.Parse(AuthCodeURL(cfg, "state-1", NewVerifier()))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range map[string]string{"access_type": "offline", "prompt": "consent", "audience": "https://api.example",
		"state": "state-1", "scope": "repo", "redirect_uri": cfg.RedirectURI, "code_challenge_method": "S256"} {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
	for _, k := range []string{"Scope", "resource", "response_mode", "request_uri", "CODE_CHALLENGE_METHOD"} {
		if q.Has(k) {
			t.Errorf("reserved parameter %s sent: %q", k, q[k])
		}
	}
}

func TestCheckIssuerParameter(t *testing.T) {
	const iss = "https://as.example/t1"
	tests := []struct {
		name      string
		supported bool
		issuer    string
		got       string
		present   bool
		ok        bool
	}{
		{"supported, equal", true, iss, iss, true, true},
		{"supported, missing", true, iss, "", false, false},
		{"supported, different", true, iss, "https://evil.example", true, false},
		{"supported, trailing slash differs", true, iss, iss + "/", true, false},
		{"not supported, absent", false, iss, "", false, true},
		{"not supported, present and equal", false, iss, iss, true, true},
		{"not supported, present and different", false, iss, "https://evil.example", true, false},
		{"present but empty", false, iss, "", true, false},
		{"no issuer known, present", false, "", "https://any.example", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := FlowConfig{Endpoint: Endpoint{Issuer: tc.issuer, ISSParameterSupported: tc.supported}}
			err := CheckIssuerParameter(cfg, tc.got, tc.present)
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				wantReason(t, err, ReasonIssuerMismatch)
			}
		})
	}
}

// tokenServer serves /token and records the last form and auth header.
type tokenServer struct {
	*fake
	form   url.Values
	user   string
	pass   string
	basic  bool
	status int
	body   string
	ctype  string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{fake: newFake(t), status: 200, ctype: "application/json",
		body: `{"access_token":"at-1","expires_in":"3600","refresh_token":"rt-2","scope":"a b","id_token":"idt"}`}
	ts.handle("/token", func(w http.ResponseWriter, r *http.Request) {
		ts.form = r.PostForm
		ts.user, ts.pass, ts.basic = r.BasicAuth()
		w.Header().Set("Content-Type", ts.ctype)
		w.WriteHeader(ts.status)
		_, _ = w.Write([]byte(ts.body))
	})
	return ts
}

func (ts *tokenServer) cfg(method, secret string) FlowConfig {
	return FlowConfig{
		Client:      Client{ClientID: "client:1", ClientSecret: secret, TokenEndpointAuthMethod: method},
		Endpoint:    Endpoint{TokenEndpoint: ts.URL() + "/token", RevocationEndpoint: ts.URL() + "/revoke"},
		RedirectURI: "http://127.0.0.1:9/cb",
		Resource:    "https://mcp.example/mcp",
		Scopes:      []string{"a", "b"},
	}
}

// checkAuth asserts the client authentication the server saw.
func (ts *tokenServer) checkAuth(t *testing.T, method, secret string) {
	t.Helper()
	switch method {
	case AuthMethodClientSecretBasic:
		// RFC 6749 2.3.1: form-encoded, then Basic.
		if !ts.basic || ts.user != url.QueryEscape("client:1") || ts.pass != url.QueryEscape(secret) || ts.form.Has("client_secret") {
			t.Errorf("basic: user=%q pass=%q form=%v", ts.user, ts.pass, ts.form)
		}
	case AuthMethodClientSecretPost:
		if ts.basic || ts.form.Get("client_id") != "client:1" || ts.form.Get("client_secret") != secret {
			t.Errorf("post: basic=%v form=%v", ts.basic, ts.form)
		}
	default:
		if ts.basic || ts.form.Get("client_id") != "client:1" || ts.form.Has("client_secret") {
			t.Errorf("none: basic=%v form=%v", ts.basic, ts.form)
		}
	}
}

var authMethods = []struct{ method, secret string }{
	{AuthMethodNone, ""},
	{AuthMethodNone, "ignored-secret"},
	{AuthMethodClientSecretBasic, "s3cr3t/+&"},
	{AuthMethodClientSecretPost, "s3cr3t/+&"},
	{"", "static-secret"}, // pre-registered confidential client: basic
}

func TestExchange(t *testing.T) {
	for _, am := range authMethods {
		t.Run(am.method+"/"+am.secret, func(t *testing.T) {
			ts := newTokenServer(t)
			cfg := ts.cfg(am.method, am.secret)
			tok, err := Exchange(context.Background(), testClient(), cfg, "code-1", "verifier-1")
			if err != nil {
				t.Fatal(err)
			}
			f := ts.form
			if f.Get("grant_type") != "authorization_code" || f.Get("code") != "code-1" || f.Get("code_verifier") != "verifier-1" ||
				f.Get("resource") != cfg.Resource || f.Get("redirect_uri") != cfg.RedirectURI {
				t.Errorf("form = %v", f)
			}
			want := am.method
			if am.method == "" {
				want = AuthMethodClientSecretBasic
			}
			if am.method == AuthMethodNone {
				want = AuthMethodNone
			}
			ts.checkAuth(t, want, am.secret)
			if tok.AccessToken != "at-1" || tok.TokenType != "Bearer" || tok.RefreshToken != "rt-2" || tok.IDToken != "idt" ||
				strings.Join(tok.Scopes, " ") != "a b" {
				t.Errorf("token = %+v", tok)
			}
			if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expiry in %v (expires_in as string)", d)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	for _, am := range authMethods {
		for _, resource := range []string{"https://granted.example/mcp", ""} {
			sendResource := resource != ""
			t.Run(am.method+"/"+am.secret, func(t *testing.T) {
				ts := newTokenServer(t)
				ts.body = `{"access_token":"at-2","token_type":"DPoP","expires_in":60}`
				cfg := ts.cfg(am.method, am.secret)
				// The grant's resource is sent, not the configured one.
				tok, err := Refresh(context.Background(), testClient(), cfg, "rt-1", resource)
				if err != nil {
					t.Fatal(err)
				}
				f := ts.form
				if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-1" {
					t.Errorf("form = %v", f)
				}
				if f.Has("scope") {
					t.Errorf("scope %q sent on refresh; omitted, it is the scope the user granted (RFC 6749 §6)", f.Get("scope"))
				}
				if f.Has("resource") != sendResource || f.Get("resource") != resource {
					t.Errorf("resource sent=%v (want %v)", f.Has("resource"), sendResource)
				}
				want := am.method
				if am.method == "" {
					want = AuthMethodClientSecretBasic
				}
				ts.checkAuth(t, want, am.secret)
				// Not rotated: empty, the caller keeps its refresh token.
				if tok.AccessToken != "at-2" || tok.RefreshToken != "" || tok.TokenType != "DPoP" || tok.Scopes != nil {
					t.Errorf("token = %+v", tok)
				}
				if d := time.Until(tok.Expiry); d < 50*time.Second || d > time.Minute {
					t.Errorf("expiry in %v", d)
				}
			})
		}
	}
}

func TestTokenErrors(t *testing.T) {
	const rt, secret = "refresh-token-XYZ", "client-secret-ABC"
	tests := []struct {
		name          string
		status        int
		body, ctype   string
		invalidGrant  bool
		invalidClient bool
		invalidScope  bool
		transient     bool
		code          string
	}{
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant","error_description":"refresh token refresh-token-XYZ was revoked"}`, invalidGrant: true, code: "invalid_grant"},
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client","error_description":"bad secret client-secret-ABC"}`, invalidClient: true, code: "invalid_client"},
		{name: "invalid_scope", status: 400, body: `{"error":"invalid_scope","error_description":"refresh token missing requested scope"}`, invalidScope: true, code: "invalid_scope"},
		{name: "bare 401", status: 401, body: ``, invalidClient: true},
		{name: "500", status: 500, body: `<html>oops refresh_token=refresh-token-XYZ&client_secret=client-secret-ABC</html>`, ctype: "text/html", transient: true},
		{name: "503 temporarily_unavailable", status: 503, body: `{"error":"temporarily_unavailable"}`, transient: true, code: "temporarily_unavailable"},
		{name: "429", status: 429, body: `{}`, transient: true},
		{name: "200 with error", status: 200, body: `{"error":"invalid_grant"}`, invalidGrant: true, code: "invalid_grant"},
		{name: "200 without access_token", status: 200, body: `{"token_type":"Bearer"}`},
		{name: "200 malformed", status: 200, body: `{"access_token":`},
		{name: "secrets echoed in the error code", status: 400, body: `{"error":"refresh-token-XYZ client-secret-ABC"}`, code: "[redacted] [redacted]"},
		{name: "form-encoded error", status: 400, body: `error=invalid_grant&error_description=expired`, ctype: "application/x-www-form-urlencoded", invalidGrant: true, code: "invalid_grant"},
	}
	for _, tc := range tests {
		for _, op := range []string{"refresh", "exchange"} {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				ts := newTokenServer(t)
				ts.status, ts.body = tc.status, tc.body
				if tc.ctype != "" {
					ts.ctype = tc.ctype
				}
				cfg := ts.cfg(AuthMethodClientSecretPost, secret)
				var err error
				if op == "refresh" {
					_, err = Refresh(context.Background(), testClient(), cfg, rt, cfg.Resource)
				} else {
					_, err = Exchange(context.Background(), testClient(), cfg, rt, "verifier-QQQ")
				}
				var te *TokenError
				if !errors.As(err, &te) {
					t.Fatalf("want *TokenError, got %T %v", err, err)
				}
				if te.IsInvalidGrant() != tc.invalidGrant || te.IsInvalidClient() != tc.invalidClient || te.IsInvalidScope() != tc.invalidScope ||
					te.Transient() != tc.transient || IsTransient(err) != tc.transient || te.Code != tc.code {
					t.Errorf("%+v: grant=%v client=%v scope=%v transient=%v", te, te.IsInvalidGrant(), te.IsInvalidClient(), te.IsInvalidScope(), te.Transient())
				}
				mustNotContain(t, err.Error(), rt, secret, "verifier-QQQ", url.QueryEscape(rt))
				mustContain(t, err.Error(), ts.URL()+"/token")
			})
		}
	}
	t.Run("network failure is transient", func(t *testing.T) {
		ts := newTokenServer(t)
		cfg := ts.cfg(AuthMethodClientSecretPost, secret)
		ts.srv.Close()
		_, err := Refresh(context.Background(), testClient(), cfg, rt, cfg.Resource)
		var te *TokenError
		if !errors.As(err, &te) || !te.Transient() || te.StatusCode != 0 {
			t.Fatalf("got %v", err)
		}
		mustNotContain(t, err.Error(), rt, secret)
	})
	t.Run("blocked token endpoint", func(t *testing.T) {
		cfg := FlowConfig{Client: Client{ClientID: "c"}, Endpoint: Endpoint{TokenEndpoint: "http://169.254.169.254/token"}}
		_, err := Refresh(context.Background(), testClient(), cfg, rt, cfg.Resource)
		wantReason(t, err, ReasonURLBlocked)
		if IsTransient(err) {
			t.Error("blocked is not transient")
		}
	})
}

func TestParseExpiresIn(t *testing.T) {
	for raw, want := range map[string]int64{`3600`: 3600, `"3600"`: 3600, `3600.0`: 3600, `null`: 0, ``: 0, `"soon"`: 0, `-5`: 0, `1e12`: 10 * 365 * 24 * 3600} {
		if got := parseExpiresIn([]byte(raw)); got != want {
			t.Errorf("%s: %d, want %d", raw, got, want)
		}
	}
}

func TestRevoke(t *testing.T) {
	for _, am := range authMethods[2:4] {
		t.Run(am.method, func(t *testing.T) {
			ts := newTokenServer(t)
			var form url.Values
			var basic bool
			ts.handle("/revoke", func(_ http.ResponseWriter, r *http.Request) {
				form = r.PostForm
				_, _, basic = r.BasicAuth()
			})
			cfg := ts.cfg(am.method, am.secret)
			if err := Revoke(context.Background(), testClient(), cfg, "rt-9", "refresh_token"); err != nil {
				t.Fatal(err)
			}
			if form.Get("token") != "rt-9" || form.Get("token_type_hint") != "refresh_token" ||
				basic != (am.method == AuthMethodClientSecretBasic) || (am.method == AuthMethodClientSecretPost) != form.Has("client_secret") {
				t.Errorf("form=%v basic=%v", form, basic)
			}
		})
	}
	t.Run("no endpoint: no-op", func(t *testing.T) {
		if err := Revoke(context.Background(), testClient(), FlowConfig{}, "rt", ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("token echoed in the error code", func(t *testing.T) {
		ts := newTokenServer(t)
		ts.handle("/revoke", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"bad token rt-secret-9"}`))
		})
		err := Revoke(context.Background(), testClient(), ts.cfg(AuthMethodNone, ""), "rt-secret-9", "")
		if err == nil {
			t.Fatal("want an error")
		}
		mustNotContain(t, err.Error(), "rt-secret-9")
	})
	t.Run("503 transient, token not echoed", func(t *testing.T) {
		ts := newTokenServer(t)
		ts.handle("/revoke", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "down, token=rt-secret-9", http.StatusServiceUnavailable)
		})
		err := Revoke(context.Background(), testClient(), ts.cfg(AuthMethodNone, ""), "rt-secret-9", "")
		var te *TokenError
		if !errors.As(err, &te) || !te.Transient() {
			t.Fatalf("got %v", err)
		}
		mustNotContain(t, err.Error(), "rt-secret-9")
		mustContain(t, err.Error(), "revocation endpoint")
	})
}
