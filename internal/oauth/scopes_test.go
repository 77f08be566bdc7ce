package oauth

import (
	"net/http"
	"slices"
	"testing"
)

func TestDefaultScopes(t *testing.T) {
	withOffline := AuthServerMetadata{ScopesSupported: []string{"read", "offline_access"}}
	tests := []struct {
		name       string
		configured []string
		d          *Discovery
		want       []string
	}{
		{"configured wins", []string{"x", "y"}, &Discovery{ChallengeScopes: []string{"c"}, ResourceScopes: []string{"r"}}, []string{"x", "y"}},
		{"challenge scope", nil, &Discovery{ChallengeScopes: []string{"c1", "c2"}, ResourceScopes: []string{"r"}}, []string{"c1", "c2"}},
		{"PRM scopes_supported", nil, &Discovery{ResourceScopes: []string{"r1", "r2"}}, []string{"r1", "r2"}},
		{"none", nil, &Discovery{}, nil},
		{"nil discovery", []string{"a", "a"}, nil, []string{"a"}},
		{"offline_access added", nil, &Discovery{ChallengeScopes: []string{"c"}, AuthServer: withOffline}, []string{"c", "offline_access"}},
		{"offline_access not duplicated", []string{"offline_access", "x"}, &Discovery{AuthServer: withOffline}, []string{"offline_access", "x"}},
		{"offline_access alone when nothing else known", nil, &Discovery{AuthServer: withOffline}, []string{"offline_access"}},
		{"offline_access not listed by AS", nil, &Discovery{ResourceScopes: []string{"r"}, AuthServer: AuthServerMetadata{ScopesSupported: []string{"read"}}}, []string{"r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultScopes(tc.configured, tc.d); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScopeHelpers(t *testing.T) {
	if got := ParseScope("  a b\ta  c "); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ParseScope = %v", got)
	}
	if ParseScope("") != nil {
		t.Error("empty scope must parse to nil")
	}
	if got := UnionScopes([]string{"a", "b"}, nil, []string{"b", "c", ""}, []string{"a", "d"}); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("UnionScopes = %v", got)
	}
	if got := JoinScopes([]string{"a", "b", "a"}); got != "a b" {
		t.Errorf("JoinScopes = %q", got)
	}
}

func TestInsufficientScope(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header []string
		want   []string
		ok     bool
	}{
		{"step-up challenge", 403, []string{`Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://x/.well-known/oauth-protected-resource"`}, []string{"files:read", "files:write"}, true},
		{"no scope parameter", 403, []string{`Bearer error="insufficient_scope"`}, nil, true},
		{"other error", 403, []string{`Bearer error="invalid_token"`}, nil, false},
		{"401 is not step-up", 401, []string{`Bearer error="insufficient_scope", scope="a"`}, nil, false},
		{"second challenge is Bearer", 403, []string{`Basic realm="x"`, `Bearer error="insufficient_scope", scope="a"`}, []string{"a"}, true},
		{"malformed header", 403, []string{`Bearer error="insufficient_scope`}, nil, false},
		{"no header", 403, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for _, h := range tc.header {
				resp.Header.Add("WWW-Authenticate", h)
			}
			got, ok := InsufficientScope(resp)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://chat.example/cb":         true,
		"http://127.0.0.1:8080/cb":        true,
		"http://[::1]/cb":                 true,
		"http://localhost:3000/cb":        true,
		"http://chat.example/cb":          false,
		"https://chat.example/cb#frag":    false,
		"https://user:pw@chat.example/cb": false,
		"/cb":                             false,
		"custom-scheme://cb":              false,
	} {
		if err := ValidateRedirectURI(raw); (err == nil) != ok {
			t.Errorf("%s: err=%v, want ok=%v", raw, err, ok)
		}
	}
}
