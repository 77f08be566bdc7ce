package callback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// The token listener: a second listener, on loopback only, for the chat
// container beside the sidecar. It answers a user's access token (never the
// refresh token) to a bearer ticket naming that user, and lists the
// MCPServers, so the chat container needs no Kubernetes credentials at all.
// It is a handler of its own, not routes of the user-facing one, so the chat
// app's proxy, which forwards the public URL to --listen, cannot publish it.

// tokenRequestTimeout bounds one request's API reads.
const tokenRequestTimeout = 5 * time.Second

// refreshRetryAfter is the Retry-After of a refresh_pending answer, in seconds.
const refreshRetryAfter = "5"

// CheckLoopback refuses an address the token listener must not bind: it
// must be host:port with host a loopback IP literal (127.0.0.0/8 or ::1).
// Names are refused too: what "localhost" resolves to is not ours to check.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: the token endpoint answers users' access tokens, so only the pod's own containers may reach it; use e.g. 127.0.0.1:8091", addr)
	}
	return nil
}

// TokenHandler is the token listener's handler. It needs ticket mode: the
// trusted header means nothing on a port every container of the pod reaches.
func (s *Server) TokenHandler() (http.Handler, error) {
	if len(s.opts.TicketKeys) == 0 {
		return nil, errors.New("the token endpoint authenticates requests with tickets: configure a ticket key")
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+mcpauth.TokenPattern, s.serve(s.token, tokenRequestsTotal, asJSON))
	mux.Handle("GET "+mcpauth.ServersPath, s.serve(s.servers, nil, asJSON))
	mux.Handle("/", s.serve(func(*request) (reply, error) { return reply{}, errNotFound }, nil, asJSON))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10) // GET only
		ctx, cancel := context.WithTimeout(r.Context(), tokenRequestTimeout)
		defer cancel()
		mux.ServeHTTP(w, r.WithContext(ctx))
	}), nil
}

// NewTokenHTTPServer wraps the token handler in an http.Server with tight
// timeouts: its requests are small GETs answered from the API server.
func NewTokenHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      tokenRequestTimeout + 5*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10, // a ticket for the longest user ID fits
	}
}

// tokenRefusal is a token request answered with an mcpauth.Code*.
func tokenRefusal(status int, code, msg string) *failure {
	return &failure{status: status, code: code, result: code, msg: msg}
}

// token answers the ticket's user's access token for one server:
// GET /token/{namespace}/{name} on the token listener.
func (s *Server) token(q *request) (reply, error) {
	ctx := q.Context()
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	id, err := s.identify(ctx, q.Request, ticketBearerNoHeader, ns+"/"+name)
	if err != nil {
		return reply{}, err
	}
	q.user = id.user
	srv := &mcpv1.MCPServer{}
	if err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, srv); err != nil {
		if apierrors.IsNotFound(err) {
			return reply{}, tokenRefusal(http.StatusNotFound, mcpauth.CodeUnknownServer, fmt.Sprintf("there is no MCP server %s/%s", ns, name))
		}
		return reply{}, &failure{status: http.StatusServiceUnavailable, msg: "the MCP server could not be read; try again",
			log: "Reading the MCP server failed", err: fmt.Errorf("reading MCPServer %s/%s: %w", ns, name, err)}
	}
	switch {
	case !srv.IsEnabled():
		return reply{}, tokenRefusal(http.StatusNotFound, mcpauth.CodeUnknownServer, fmt.Sprintf("the MCP server %s/%s is disabled", ns, name))
	case srv.Spec.Auth.Type != mcpv1.AuthTypeOAuth2:
		return reply{}, tokenRefusal(http.StatusConflict, mcpauth.CodeNoUserToken,
			fmt.Sprintf("the MCP server %s/%s uses %s authentication: it has no per-user token", ns, name, authTypeOf(srv.Spec.Auth.Type)))
	}
	sec, err := s.serverToken(ctx, srv, id.user)
	if err != nil {
		return reply{}, connectionUnreadable(err)
	}
	if sec == nil {
		return reply{}, tokenRefusal(http.StatusNotFound, mcpauth.CodeNotConnected, fmt.Sprintf("the user is not connected to %s/%s", ns, name))
	}
	rec := tokensecret.Read(sec)
	switch rec.AccessAt(s.opts.Now(), mcpauth.ExpiryMargin) {
	case tokensecret.AccessOK:
	case tokensecret.AccessRefreshPending:
		q.header.Set("Retry-After", refreshRetryAfter)
		return reply{}, tokenRefusal(http.StatusServiceUnavailable, mcpauth.CodeRefreshPending,
			"the access token has expired or is about to, and its refresh is pending; try again shortly")
	case tokensecret.AccessExpired:
		return reply{}, tokenRefusal(http.StatusConflict, mcpauth.CodeExpired,
			"the access token has expired and there is no refresh token to replace it; the user connects again")
	default:
		return reply{}, tokenRefusal(http.StatusConflict, mcpauth.CodeReauthorizationRequired,
			"the user must connect to this MCP server again")
	}
	out := mcpauth.TokenResponse{AccessToken: rec.AccessToken, TokenType: rec.TokenType, Resource: rec.Resource,
		Scope: strings.Join(rec.Scopes, " ")}
	if out.TokenType == "" {
		out.TokenType = "Bearer"
	}
	if !rec.Expiry.IsZero() {
		exp := rec.Expiry.UTC()
		out.ExpiresAt = &exp
	}
	return reply{json: out, result: resultServed}, nil
}

func authTypeOf(t mcpv1.AuthType) mcpv1.AuthType {
	if t == "" {
		return mcpv1.DefaultAuthType
	}
	return t
}

// servers lists the enabled MCPServers and the ticket's user's connection
// to each: GET /servers on the token listener.
func (s *Server) servers(q *request) (reply, error) {
	ctx := q.Context()
	id, err := s.identify(ctx, q.Request, ticketBearerNoHeader, "")
	if err != nil {
		return reply{}, err
	}
	q.user = id.user
	servers, err := s.enabledServers(ctx)
	if err != nil {
		return reply{}, err
	}
	out := mcpauth.ServerList{User: id.user, Servers: []mcpauth.ServerInfo{}}
	for i := range servers {
		srv := &servers[i]
		c, err := s.connection(ctx, srv, id.user)
		if err != nil {
			return reply{}, connectionUnreadable(err)
		}
		out.Servers = append(out.Servers, mcpauth.ServerInfo{
			Namespace: c.Namespace, Name: c.Name, DisplayName: c.DisplayName, URL: srv.Spec.URL, AuthType: c.AuthType,
			Ready: meta.IsStatusConditionTrue(srv.Status.Conditions, mcpv1.ConditionReady), Tools: srv.Status.Tools,
			Connected: c.Connected, State: mcpauth.State(c.State), Expiry: c.Expiry, Scopes: c.Scopes,
		})
	}
	slices.SortFunc(out.Servers, func(a, b mcpauth.ServerInfo) int { return strings.Compare(a.Name, b.Name) })
	return reply{json: out}, nil
}
