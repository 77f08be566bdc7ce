package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testPolicy is the only policy tests use against httptest servers: they
// listen on 127.0.0.1 over plain http.
var testPolicy = EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}

func testClient() *http.Client { return NewHTTPClient(testPolicy) }

// fake is a programmable MCP + OAuth server on 127.0.0.1. Unknown paths
// answer 404. Every request is logged.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   []string
	reqs   []*http.Request
	bodies map[string]string
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, routes: map[string]http.HandlerFunc{}, bodies: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.hits = append(f.hits, r.URL.Path)
	f.reqs = append(f.reqs, r)
	h := f.routes[r.URL.Path]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (f *fake) URL() string { return f.srv.URL }

func (f *fake) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[path] = h
}

// json serves v as JSON at path.
func (f *fake) json(path string, v any) {
	f.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	})
}

// mcp401 makes /mcp (or path) answer 401 with the given WWW-Authenticate.
func (f *fake) mcp401(path, challenge string) {
	f.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		if challenge != "" {
			w.Header().Set("WWW-Authenticate", challenge)
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func (f *fake) hit(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.hits, path)
}

func (f *fake) requestsTo(path string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.reqs {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// asDoc returns authorization server metadata for issuer with endpoints on
// base; mods adjust it.
func asDoc(issuer, base string, mods ...func(map[string]any)) map[string]any {
	m := map[string]any{
		"issuer":                           issuer,
		"authorization_endpoint":           base + "/authorize",
		"token_endpoint":                   base + "/token",
		"registration_endpoint":            base + "/register",
		"revocation_endpoint":              base + "/revoke",
		"code_challenge_methods_supported": []string{"S256"},
		"response_types_supported":         []string{"code"},
	}
	for _, mod := range mods {
		mod(m)
	}
	return m
}

func prmDoc(resource string, servers ...string) map[string]any {
	return map[string]any{"resource": resource, "authorization_servers": servers}
}

// wantReason fails the test unless err is an *Error with reason want.
func wantReason(t *testing.T, err error, want Reason) {
	t.Helper()
	_ = reasonError(t, err, want)
}

// reasonError is wantReason that also returns the *Error for more checks.
func reasonError(t *testing.T, err error, want Reason) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got nil", want)
	}
	if got := ReasonOf(err); got != want {
		t.Fatalf("reason = %q, want %q (err: %v)", got, want, err)
	}
	var e *Error
	_ = errorsAs(err, &e)
	return e
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}

func mustNotContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			t.Errorf("%q must not contain %q", s, sub)
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
