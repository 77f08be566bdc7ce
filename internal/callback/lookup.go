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

// oauthServer is an OAuth2 MCPServer ready for the authorization-code flow.
type oauthServer struct {
	server *mcpv1.MCPServer
	cfg    oauth.FlowConfig
}

// flowPart is how much of the flow configuration a step needs.
type flowPart int

const (
	// forAuthorization: the authorization request's part, from the
	// MCPServer alone (serverconfig.Authorization); no Secret is read.
	forAuthorization flowPart = iota
	// forExchange: everything, the client's credentials included
	// (serverconfig.Load reads the client Secret).
	forExchange
)

// loadOAuthServer reads namespace/name and the part of its flow
// configuration a step needs, refusing servers that are missing, disabled,
// not OAuth2 or not configured yet.
func (s *Server) loadOAuthServer(ctx context.Context, namespace, name string, part flowPart) (*oauthServer, error) {
	srv := &mcpv1.MCPServer{}
	if err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, srv); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, refuse(http.StatusNotFound, resultRejected, fmt.Sprintf("there is no MCP server %s/%s", namespace, name))
		}
		return nil, &failure{status: http.StatusServiceUnavailable, result: resultRejected, msg: "the MCP server could not be read; try again",
			log: "Reading the MCP server failed", err: fmt.Errorf("reading MCPServer %s/%s: %w", namespace, name, err)}
	}
	switch {
	case !srv.IsEnabled():
		return nil, refuse(http.StatusConflict, resultRejected, fmt.Sprintf("the MCP server %s/%s is disabled", namespace, name))
	case srv.Spec.Auth.Type != mcpv1.AuthTypeOAuth2:
		return nil, refuse(http.StatusBadRequest, resultRejected,
			fmt.Sprintf("the MCP server %s/%s uses %s authentication, not OAuth2: there is nothing to connect", namespace, name, srv.Spec.Auth.Type))
	}
	var cfg oauth.FlowConfig
	var err error
	if part == forExchange {
		cfg, err = serverconfig.Load(ctx, s.opts.Client, srv)
	} else {
		cfg, err = serverconfig.Authorization(srv)
	}
	switch {
	case errors.Is(err, serverconfig.ErrNotConfigured):
		return nil, refuse(http.StatusServiceUnavailable, resultRejected,
			fmt.Sprintf("OAuth2 is not configured for %s/%s yet (see its AuthConfigured condition); try again later", namespace, name))
	case err != nil:
		return nil, &failure{status: http.StatusServiceUnavailable, result: resultRejected, msg: "the MCP server's OAuth client could not be read; try again",
			log: "Reading the MCP server's OAuth client failed", err: err}
	}
	if want := mcpauth.RedirectURI(s.opts.PublicURL, namespace, name); cfg.RedirectURI != want {
		return nil, refuse(http.StatusServiceUnavailable, resultRejected,
			fmt.Sprintf("the OAuth client of %s/%s is registered for redirect URI %s, but this callback server answers at %s: give the manager's --callback-url the same base URL as --public-url", namespace, name, cfg.RedirectURI, want))
	}
	return &oauthServer{server: srv, cfg: cfg}, nil
}
