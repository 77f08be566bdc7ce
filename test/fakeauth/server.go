// Package fakeauth is an in-process fake OAuth 2.1 authorization server and
// MCP server for tests, benchmarks and demos.
//
// It follows the MCP authorization specification (2025-11-25 and 2026-07-28)
// and is strict where real servers are strict: PKCE S256 is required, the
// RFC 8707 resource is checked, codes are single use, redirect URIs match
// exactly, clients authenticate with their registered method, and a replayed
// rotated refresh token revokes the whole grant. Faults (5xx, slow, malformed
// or oversized bodies, metadata defects) can be switched on at run time.
//
// Everything binds to 127.0.0.1. The fake never logs tokens.
package fakeauth

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// MetadataMode selects which authorization server metadata documents are served.
type MetadataMode int

const (
	// MetadataBoth serves RFC 8414 and OpenID Connect discovery documents (default).
	MetadataBoth MetadataMode = iota
	// MetadataRFC8414 serves only /.well-known/oauth-authorization-server{issuerPath}.
	MetadataRFC8414
	// MetadataOIDC serves only the OpenID Connect discovery documents (like Google).
	MetadataOIDC
	// MetadataNone serves no metadata (2025-03-26 back-compat: clients use the
	// default /authorize, /token and /register endpoints).
	MetadataNone
)

// PRMMode selects how RFC 9728 protected resource metadata is published.
type PRMMode int

const (
	// PRMPathAndRoot serves PRM at /.well-known/oauth-protected-resource{mcpPath}
	// and at the root well-known URL; the 401 challenge names the path one (default).
	PRMPathAndRoot PRMMode = iota
	// PRMRootOnly serves PRM only at the root well-known URL and the 401
	// challenge carries no resource_metadata: clients must probe the path URL,
	// get a 404, and fall back to the root.
	PRMRootOnly
	// PRMHeaderOnly serves PRM only at a non-well-known URL named by the
	// resource_metadata parameter of the 401 challenge.
	PRMHeaderOnly
	// PRMNone serves no PRM and a bare Bearer challenge (2025-03-26 back-compat:
	// the authorization server is the MCP server's origin). Combine with
	// SeparateOrigins=false and an empty IssuerPath for that discovery to work.
	PRMNone
)

// Options configure a Server. The zero value is a strict, realistic server on
// one origin with DCR, refresh token rotation and reuse detection.
type Options struct {
	// SeparateOrigins puts the authorization server and the MCP server on
	// different 127.0.0.1 ports, as in most real deployments.
	SeparateOrigins bool
	// IssuerPath gives the issuer a path, e.g. "/tenant1" (like GitHub's
	// https://github.com/login/oauth). Endpoints live under the issuer.
	IssuerPath string
	// Metadata selects the authorization server metadata documents served.
	Metadata MetadataMode
	// PRM selects how protected resource metadata is published.
	PRM PRMMode
	// MCPPath is the MCP endpoint path; default "/mcp".
	MCPPath string

	// DisableDCR turns off RFC 7591 registration (no registration_endpoint,
	// /register answers 404), like GitHub; use AddClient for static clients.
	DisableDCR bool
	// DCRAuthMethod, when set, is the token_endpoint_auth_method assigned to
	// every DCR client whatever it asked for; clients must use the one returned.
	DCRAuthMethod string
	// CIMD advertises client_id_metadata_document_supported and accepts https
	// client IDs with a path at /authorize without fetching them.
	CIMD bool
	// ISSParameter advertises authorization_response_iss_parameter_supported
	// and adds iss to every authorization response (RFC 9207).
	ISSParameter bool
	// ClientSecretTTL makes DCR client secrets expire (advertised in
	// client_secret_expires_at; an expired secret gets invalid_client). An
	// RFC 7592 update (PUT) then issues a new secret; 0 means never.
	ClientSecretTTL time.Duration
	// AllowHTTPRedirectURIs accepts plain-http, non-loopback redirect URIs.
	// By default only https and http loopback redirect URIs are accepted.
	AllowHTTPRedirectURIs bool

	// AccessTokenTTL is the access token lifetime; default 1h.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the refresh token lifetime; 0 means no expiry.
	RefreshTokenTTL time.Duration
	// DisableRefreshRotation keeps the refresh token across refreshes (the
	// response then carries no refresh_token, as with Google).
	DisableRefreshRotation bool
	// RefreshTokenAtFirstConsentOnly issues a refresh token only to a
	// client's first grant for a subject, as Google does; later code
	// exchanges get an access token alone, and the first refresh token
	// stays valid.
	RefreshTokenAtFirstConsentOnly bool
	// DisableReuseDetection stops a replayed rotated refresh token from revoking
	// the grant (it still gets invalid_grant).
	DisableReuseDetection bool
	// ResourceOptional accepts authorization and token requests without an
	// RFC 8707 resource parameter (a wrong one is still rejected).
	ResourceOptional bool
	// ResourceAliases are further RFC 8707 resource values that name the MCP
	// server, like Entra ID's api://<application-id>: authorization and
	// token requests may name one, the grant is bound to the value named,
	// and the MCP endpoint accepts its access tokens.
	ResourceAliases []string
	// RejectResourceOnAuthorize refuses every authorization request that
	// carries a resource parameter (invalid_target), as Entra ID does since
	// March 2026 when the scope names a resource (AADSTS9010010). Requests
	// without one are bound to the MCP server, and token requests may then
	// omit it too.
	RejectResourceOnAuthorize bool

	// RequireAudience refuses an authorization request whose audience
	// parameter is not this value (invalid_request), as Atlassian does and
	// Auth0 does for tokens meant for an API; set it with
	// additionalAuthorizationParameters.
	RequireAudience string

	// OtherAuthorizationServers are issuers the PRM lists before this
	// server's own in authorization_servers, as a resource accepting
	// tokens of several authorization servers does.
	OtherAuthorizationServers []string

	// ModernOnly makes the MCP server speak only MCP 2026-07-28: a request
	// without that MCP-Protocol-Version (a legacy initialize) is refused,
	// before any token check, with 400 and UnsupportedProtocolVersion, as
	// the 2026-07-28 versioning page has a modern-only server do.
	ModernOnly bool

	// Scopes are the resource's scopes: PRM scopes_supported (with StepUpScope),
	// the 401 challenge scope, and what an authorization without scope gets.
	// nil means {"mcp:read", "mcp:tools"}; an empty non-nil slice means none.
	Scopes []string
	// StepUpScope is the extra scope the admin-tool needs (403
	// insufficient_scope without it); default "mcp:admin".
	StepUpScope string
	// OfflineAccess lists offline_access in the AS scopes_supported and issues
	// refresh tokens only to grants that asked for it. Without it refresh
	// tokens go to every client registered for the refresh_token grant.
	OfflineAccess bool

	// TLS, when set, serves both origins over https with this configuration
	// (a certificate for 127.0.0.1 signed by the test's own CA), as a server
	// behind a corporate or private CA is.
	TLS *tls.Config

	// Subject is the user every authorization is approved for unless the
	// request carries login_hint; default "fake-user".
	Subject string
	// Clock replaces time.Now for token and code expiry.
	Clock func() time.Time
	// Latency delays every request by this much before it is handled, as a
	// provider that is not on loopback would (benchmarks use 50 ms).
	Latency time.Duration
}

// Endpoints are the URLs a Server serves.
type Endpoints struct {
	Issuer           string
	Authorization    string
	Token            string
	Registration     string // empty when DCR is disabled
	Revocation       string
	ResourceMetadata string // the URL named in the 401 challenge, or empty
	RootPRM          string // root well-known PRM URL, or empty
	MCP              string // the MCP endpoint, which is also the RFC 8707 resource
}

// Server is a running fake authorization server and MCP server.
type Server struct {
	opts    Options
	asBase  string // http://127.0.0.1:port of the authorization server
	mcpBase string // http://127.0.0.1:port of the MCP server
	issuer  string
	servers []*http.Server
	done    chan struct{}
	once    sync.Once

	mu      sync.Mutex
	clients map[string]*client
	codes   map[string]*authCode
	grants  map[string]*grant
	tokens  map[string]*token
	revoked map[string]bool

	fmu      sync.Mutex
	fault    Fault
	remain   map[Endpoint]int // Times budget left per endpoint fault
	counters Counters
	// lastAuthorize is the parameters of the last authorization request.
	lastAuthorize url.Values
}

// New starts a Server on ephemeral 127.0.0.1 ports. It panics if it cannot
// listen, like httptest.NewServer. Call Close when done.
func New(opts Options) *Server {
	s, err := Start(opts, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeauth: %v", err))
	}
	return s
}

// Start starts a Server on the given addresses, which must be 127.0.0.1:port
// (port 0 picks one). mcpAddr is ignored unless opts.SeparateOrigins.
func Start(opts Options, asAddr, mcpAddr string) (*Server, error) {
	opts = withDefaults(opts)
	s := &Server{
		opts:    opts,
		done:    make(chan struct{}),
		clients: map[string]*client{},
		codes:   map[string]*authCode{},
		grants:  map[string]*grant{},
		tokens:  map[string]*token{},
		revoked: map[string]bool{},
		remain:  map[Endpoint]int{},
	}
	asLn, err := listenLoopback(asAddr)
	if err != nil {
		return nil, err
	}
	s.asBase = s.scheme() + "://" + asLn.Addr().String()
	s.mcpBase = s.asBase
	s.issuer = s.asBase + opts.IssuerPath
	if !opts.SeparateOrigins {
		mux := s.newRouter()
		s.addASRoutes(mux)
		s.addMCPRoutes(mux)
		s.serve(asLn, mux)
		return s, nil
	}
	mcpLn, err := listenLoopback(mcpAddr)
	if err != nil {
		asLn.Close()
		return nil, err
	}
	s.mcpBase = s.scheme() + "://" + mcpLn.Addr().String()
	asMux, mcpMux := s.newRouter(), s.newRouter()
	s.addASRoutes(asMux)
	s.addMCPRoutes(mcpMux)
	s.serve(asLn, asMux)
	s.serve(mcpLn, mcpMux)
	return s, nil
}

func withDefaults(o Options) Options {
	if o.MCPPath == "" {
		o.MCPPath = "/mcp"
	}
	if !strings.HasPrefix(o.MCPPath, "/") {
		o.MCPPath = "/" + o.MCPPath
	}
	o.IssuerPath = strings.TrimSuffix(o.IssuerPath, "/")
	if o.IssuerPath != "" && !strings.HasPrefix(o.IssuerPath, "/") {
		o.IssuerPath = "/" + o.IssuerPath
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.Scopes == nil {
		o.Scopes = []string{"mcp:read", "mcp:tools"}
	}
	if o.StepUpScope == "" {
		o.StepUpScope = "mcp:admin"
	}
	if o.Subject == "" {
		o.Subject = "fake-user"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return nil, errors.New("listen address must be 127.0.0.1:port, got " + addr)
	}
	return net.Listen("tcp", addr)
}

func (s *Server) scheme() string {
	if s.opts.TLS != nil {
		return "https"
	}
	return "http"
}

func (s *Server) serve(ln net.Listener, h http.Handler) {
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
}

// Close stops the servers and aborts delayed (faulted) requests.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		for _, srv := range s.servers {
			srv.Close()
		}
	})
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// MCPURL is the MCP endpoint URL, which is also the RFC 8707 resource.
func (s *Server) MCPURL() string { return s.mcpBase + s.opts.MCPPath }

// IssuerURL is the authorization server's issuer identifier.
func (s *Server) IssuerURL() string { return s.issuer }

// ASOrigin is the authorization server's origin (scheme://host:port).
func (s *Server) ASOrigin() string { return s.asBase }

// MCPOrigin is the MCP server's origin; equal to ASOrigin on a single origin.
func (s *Server) MCPOrigin() string { return s.mcpBase }

// Endpoints lists the URLs the Server serves.
func (s *Server) Endpoints() Endpoints {
	e := Endpoints{
		Issuer:        s.issuer,
		Authorization: s.issuer + "/authorize",
		Token:         s.issuer + "/token",
		Revocation:    s.issuer + "/revoke",
		MCP:           s.MCPURL(),
	}
	if !s.opts.DisableDCR {
		e.Registration = s.issuer + "/register"
	}
	e.ResourceMetadata = s.challengePRMURL()
	if s.opts.PRM == PRMPathAndRoot || s.opts.PRM == PRMRootOnly {
		e.RootPRM = s.mcpBase + prmWellKnown
	}
	return e
}

func (s *Server) now() time.Time { return s.opts.Clock() }

// router dispatches on exact paths, plus a prefix for RFC 7592 client URIs.
type router struct {
	s        *Server
	exact    map[string]http.Handler
	prefix   string
	byPrefix http.Handler
}

func (s *Server) newRouter() *router { return &router{s: s, exact: map[string]http.Handler{}} }

func (rt *router) handle(path string, h http.Handler) { rt.exact[path] = h }

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !rt.s.sleep(r, rt.s.opts.Latency) {
		return
	}
	if h, ok := rt.exact[r.URL.Path]; ok {
		h.ServeHTTP(w, r)
		return
	}
	if rt.byPrefix != nil && strings.HasPrefix(r.URL.Path, rt.prefix) {
		rt.byPrefix.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
}

// sleep waits d unless the request or the server ends first; it reports
// whether the request should still be answered.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}
