package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// routeError is a failure with the status to answer and a message safe to show.
type routeError struct {
	status int
	msg    string
	err    error // cause, for the log only
}

func (e *routeError) Error() string { return e.msg }

// oauthServer is an OAuth2 MCPServer ready for the authorization-code flow.
type oauthServer struct {
	server *mcpv1.MCPServer
	cfg    oauth.FlowConfig
}

// loadOAuthServer reads namespace/name and its flow configuration, refusing
// servers that are missing, disabled, not OAuth2 or not configured yet.
func (s *Server) loadOAuthServer(ctx context.Context, namespace, name string) (*oauthServer, *routeError) {
	srv := &mcpv1.MCPServer{}
	if err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, srv); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &routeError{status: http.StatusNotFound, msg: fmt.Sprintf("there is no MCP server %s/%s", namespace, name)}
		}
		return nil, &routeError{status: http.StatusServiceUnavailable, msg: "the MCP server could not be read; try again",
			err: fmt.Errorf("reading MCPServer %s/%s: %w", namespace, name, err)}
	}
	switch {
	case !srv.IsEnabled():
		return nil, &routeError{status: http.StatusConflict, msg: fmt.Sprintf("the MCP server %s/%s is disabled", namespace, name)}
	case srv.Spec.Auth.Type != mcpv1.AuthTypeOAuth2:
		return nil, &routeError{status: http.StatusBadRequest,
			msg: fmt.Sprintf("the MCP server %s/%s uses %s authentication, not OAuth2: there is nothing to connect", namespace, name, srv.Spec.Auth.Type)}
	}
	cfg, err := serverconfig.Load(ctx, s.opts.Client, srv)
	switch {
	case errors.Is(err, serverconfig.ErrNotConfigured):
		return nil, &routeError{status: http.StatusServiceUnavailable,
			msg: fmt.Sprintf("OAuth2 is not configured for %s/%s yet (see its AuthConfigured condition); try again later", namespace, name)}
	case err != nil:
		return nil, &routeError{status: http.StatusServiceUnavailable, msg: "the MCP server's OAuth client could not be read; try again", err: err}
	}
	if want := mcpauth.RedirectURI(s.opts.PublicURL, namespace, name); cfg.RedirectURI != want {
		return nil, &routeError{status: http.StatusServiceUnavailable,
			msg: fmt.Sprintf("the OAuth client of %s/%s is registered for redirect URI %s, but this callback server answers at %s: give the manager's --callback-url the same base URL as --public-url", namespace, name, cfg.RedirectURI, want)}
	}
	return &oauthServer{server: srv, cfg: cfg}, nil
}
