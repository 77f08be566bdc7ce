package fakeauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestMetadataFaults(t *testing.T) {
	s := newServer(t, Options{IssuerPath: "/t1", SeparateOrigins: true})
	asURL := s.ASOrigin() + "/.well-known/oauth-authorization-server/t1"
	s.SetFault(Fault{WrongIssuer: true, NoPKCE: true, NoRegistrationEndpoint: true, WrongResource: true, DuplicateContentType: true})
	resp, doc := getJSON(t, asURL)
	if str(doc, "issuer") == s.IssuerURL() || str(doc, "issuer") == "" {
		t.Errorf("WrongIssuer: issuer %q", str(doc, "issuer"))
	}
	if _, ok := doc["code_challenge_methods_supported"]; ok {
		t.Error("NoPKCE: code_challenge_methods_supported present")
	}
	if _, ok := doc["registration_endpoint"]; ok {
		t.Error("NoRegistrationEndpoint: registration_endpoint present")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json, application/json" {
		t.Errorf("DuplicateContentType: %q", ct)
	}
	if _, prm := getJSON(t, s.Endpoints().ResourceMetadata); str(prm, "resource") == s.MCPURL() {
		t.Error("WrongResource: PRM resource unchanged")
	}
	s.SetFault(Fault{})
	if _, doc := getJSON(t, asURL); str(doc, "issuer") != s.IssuerURL() {
		t.Errorf("after clearing: issuer %q", str(doc, "issuer"))
	}
}

func TestHTTPFaults(t *testing.T) {
	s := newServer(t, Options{})
	asURL := s.ASOrigin() + "/.well-known/oauth-authorization-server"
	c := registerClient(t, s, AuthNone)
	tok, _ := s.IssueTokens(c.ID)

	// A counted 503 on the token endpoint, then recovery.
	f := Failing(http.StatusServiceUnavailable, EndpointToken)
	f.HTTP[EndpointToken] = HTTPFault{Status: http.StatusServiceUnavailable, Times: 1}
	s.SetFault(f)
	if r, m := refresh(t, s, c, tok.RefreshToken); r.StatusCode != 503 || str(m, "error") != "server_error" {
		t.Errorf("faulted refresh: %d %v", r.StatusCode, m)
	}
	if r, m := refresh(t, s, c, tok.RefreshToken); r.StatusCode != 200 {
		t.Errorf("refresh after the fault budget: %d %v", r.StatusCode, m)
	}
	if got := s.Counters().TokenRefresh; got != 2 {
		t.Errorf("faulted requests not counted: TokenRefresh=%d", got)
	}
	s.SetFault(Fault{HTTP: map[Endpoint]HTTPFault{EndpointToken: {Status: http.StatusBadRequest, Code: "invalid_scope", Times: 1}}})
	if r, m := refresh(t, s, c, tok.RefreshToken); r.StatusCode != 400 || str(m, "error") != "invalid_scope" {
		t.Errorf("faulted refresh with an error code: %d %v", r.StatusCode, m)
	}
	s.SetFault(Fault{})

	s.SetFault(Failing(http.StatusBadGateway, EndpointMCP))
	if r := mcpStatus(t, s, ""); r.StatusCode != http.StatusBadGateway {
		t.Errorf("MCP fault: %d", r.StatusCode)
	}

	s.SetFault(Fault{HTTP: map[Endpoint]HTTPFault{EndpointMetadata: {Malformed: true}}})
	resp, err := http.Get(asURL)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err == nil || resp.StatusCode != 200 {
		t.Errorf("malformed: status %d, decode err %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	s.SetFault(Fault{HTTP: map[Endpoint]HTTPFault{EndpointAll: {Oversize: true}}})
	resp, err = http.Get(s.Endpoints().ResourceMetadata)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n <= 1<<20 {
		t.Errorf("oversize body is %d bytes", n)
	}

	s.SetFault(Fault{HTTP: map[Endpoint]HTTPFault{EndpointMetadata: {Delay: time.Minute}}})
	start := time.Now()
	if _, err := (&http.Client{Timeout: 200 * time.Millisecond}).Get(asURL); err == nil {
		t.Error("slow endpoint answered before the client timeout")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("client timeout not honoured")
	}
}

func TestAuthorizationResponseISSFaults(t *testing.T) {
	s := newServer(t, Options{ISSParameter: true})
	c := registerClient(t, s, AuthNone)
	s.SetFault(Fault{WrongISS: true})
	if _, rq := authorize(t, s, authorizeParams(s, c, newPKCE())); rq.Get("iss") == s.IssuerURL() || rq.Get("iss") == "" {
		t.Errorf("WrongISS: iss %q", rq.Get("iss"))
	}
	s.SetFault(Fault{OmitISS: true})
	if _, rq := authorize(t, s, authorizeParams(s, c, newPKCE())); rq.Has("iss") || rq.Get("code") == "" {
		t.Errorf("OmitISS: %v", rq)
	}
}

func TestCloseAbortsDelayedRequests(t *testing.T) {
	s := New(Options{})
	s.SetFault(Fault{HTTP: map[Endpoint]HTTPFault{EndpointAll: {Delay: time.Hour}}})
	errc := make(chan error, 1)
	go func() {
		_, err := http.PostForm(s.Endpoints().Token, url.Values{})
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a delayed request")
	}
	<-errc //nolint:errcheck // wait for the aborted request to return; its outcome is not under test
}

func TestStartRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0", "[::1]:0"} {
		if s, err := Start(Options{}, addr, ""); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	s, err := Start(Options{SeparateOrigins: true}, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ASOrigin() == s.MCPOrigin() {
		t.Error("SeparateOrigins gave one origin")
	}
}

func TestBackCompatNoPRMNoMetadata(t *testing.T) {
	s := newServer(t, Options{PRM: PRMNone, Metadata: MetadataNone})
	if s.IssuerURL() != s.MCPOrigin() {
		t.Fatalf("issuer %q is not the MCP origin %q", s.IssuerURL(), s.MCPOrigin())
	}
	// 2025-03-26 default endpoints at the MCP server's origin.
	resp, reg := register(t, s, map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none"})
	if resp.StatusCode != http.StatusCreated || s.Endpoints().Registration != s.MCPOrigin()+"/register" {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	c, _ := s.Client(str(reg, "client_id"))
	if m := codeFlow(t, s, c, nil); mcpStatus(t, s, str(m, "access_token")).StatusCode != http.StatusOK {
		t.Error("token from default endpoints rejected")
	}
}

func TestLatencyDelaysEveryRoute(t *testing.T) {
	const latency = 80 * time.Millisecond
	s := newServer(t, Options{Latency: latency, SeparateOrigins: true})
	for _, url := range []string{
		s.ASOrigin() + asWellKnown,      // a route
		s.MCPOrigin() + "/no-such-path", // a 404
	} {
		start := time.Now()
		resp, _ := getJSON(t, url)
		if took := time.Since(start); took < latency {
			t.Errorf("GET %s answered %d after %s, want at least %s", url, resp.StatusCode, took, latency)
		}
	}
}
