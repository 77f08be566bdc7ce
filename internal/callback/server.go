// Package callback is the callback server: a sidecar beside the chat app that
// runs each user's OAuth authorization-code flow against an OAuth2 MCPServer
// of one namespace and keeps the resulting tokens in per-user Secrets.
//
// Routes: the pkg/mcpauth patterns (connect, callback, connections,
// disconnect, client metadata). Two handlers serve listeners of their own:
// the token endpoint (TokenHandler: a user's access token and the server
// list, for the chat container, on loopback) and the operations endpoint
// (OpsHandler: probes and metrics, for the kubelet and Prometheus), so that
// neither is published through the chat app's proxy.
// Everything OAuth is done by internal/oauth; this package only wires HTTP,
// the user's identity, the flow cookie and Secrets together.
package callback

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// MinKeyBytes is the least key material accepted for the cookie and ticket keys.
const MinKeyBytes = 32

// maxRequestBody caps request bodies: only the connect confirmation takes
// one, a form of one field.
const maxRequestBody = 64 << 10

// Options configure a Server.
type Options struct {
	// Namespace is the only namespace served; other namespaces are 404.
	Namespace string
	// PublicURL is the external base URL; redirect URIs and the cookie path
	// are derived from it with pkg/mcpauth, like the manager's --callback-url.
	PublicURL string
	// UserHeader enables trusted-header mode: the user ID is this header.
	UserHeader string
	// TicketKeys enable ticket mode: HS256 tickets signed with any of them
	// are accepted, so a rotation can overlap the new key and the old one.
	TicketKeys [][]byte
	// CookieKeys are the shared secrets the flow cookie's sealing keys are
	// derived from: the first seals, every one opens (a rotation lists the
	// new key first and the old one after, for a sign-in's 10 minutes).
	CookieKeys [][]byte
	// AllowedReturnOrigins are the origins (scheme://host[:port]) return_to may name.
	AllowedReturnOrigins []string
	// HTTPClient is oauth.NewHTTPClient's egress-guarded client.
	HTTPClient *http.Client
	// Client reads MCPServers and Secrets, writes token Secrets and the
	// UsedOnceConfigMaps.
	Client client.Client
	// Log is the base logger; requests log through ctrl.LoggerFrom.
	Log logr.Logger
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Server is the callback server's HTTP handler.
type Server struct {
	opts       Options
	base       *url.URL // parsed PublicURL
	cookies    *flowSealer
	used       *usedOnce
	returnOrig map[string]bool
	mux        *http.ServeMux
	// trusted holds the clients of servers with their own CA bundle.
	trusted oauth.TrustedClients
}

// New validates opts and builds the server.
func New(opts Options) (*Server, error) {
	if opts.Namespace == "" {
		return nil, errors.New("a namespace is required")
	}
	if opts.Client == nil || opts.HTTPClient == nil {
		return nil, errors.New("a Kubernetes client and an HTTP client are required")
	}
	if opts.UserHeader == "" && len(opts.TicketKeys) == 0 {
		return nil, errors.New("no user identity mode: set a user header or a ticket key")
	}
	for _, k := range opts.TicketKeys {
		if len(k) < MinKeyBytes {
			return nil, fmt.Errorf("a ticket key has %d bytes; at least %d random bytes are required", len(k), MinKeyBytes)
		}
	}
	base, err := parsePublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	sealer, err := newFlowSealer(opts.CookieKeys)
	if err != nil {
		return nil, err
	}
	origins, err := parseOrigins(opts.AllowedReturnOrigins)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Requests read and write token Secrets: keep client-go's body dumps
	// out of the logs whatever the verbosity.
	opts.Log = logsafe.Cap(opts.Log)
	s := &Server{opts: opts, base: base, cookies: sealer, returnOrig: origins,
		used: &usedOnce{client: opts.Client, namespace: opts.Namespace, now: opts.Now}}
	s.mux = s.routes()
	return s, nil
}

func parsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the public URL %q must be an absolute http(s) URL without query, e.g. https://chat.example.com/mcp-auth", raw)
	}
	return u, nil
}

// routes registers every route; anything else is 404.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET "+mcpauth.ConnectPattern, s.serve(s.connect, connectsTotal, asPage))
	mux.Handle("POST "+mcpauth.ConnectPattern, s.serve(s.confirm, connectsTotal, asPage))
	mux.Handle("GET "+mcpauth.CallbackPattern, s.serve(s.callback, callbacksTotal, asPage))
	mux.Handle("GET "+mcpauth.ConnectionsPath, s.serve(s.connections, nil, asJSON))
	mux.Handle("DELETE "+mcpauth.ConnectionPattern, s.serve(s.disconnect, disconnectsTotal, asJSON))
	mux.Handle("GET "+mcpauth.ClientMetadataPattern, s.serve(s.clientMetadata, nil, asJSON))
	mux.Handle("/", s.serve(func(*request) (reply, error) { return reply{}, errNotFound }, nil, asJSON))
	return mux
}

// ServeHTTP applies the common protections, strips the public URL's path
// prefix when the proxy forwards it, and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if prefix := s.base.Path; prefix != "" && strings.HasPrefix(r.URL.Path, prefix+"/") {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r2.URL.RawPath = ""
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// NewHTTPServer wraps h in an http.Server with timeouts and header limits.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // a code exchange is bounded by the egress client's 15s
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}
