package callback

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// clientMetadata serves the Client ID Metadata Document of a server whose
// client is registered through CIMD: GET /client-metadata/{namespace}/{name}.json.
// Public: authorization servers fetch it.
func (s *Server) clientMetadata(q *request) (reply, error) {
	ns := q.PathValue("namespace")
	name, ok := strings.CutSuffix(q.PathValue("name"), ".json")
	if !ok || name == "" {
		return reply{}, errNotFound
	}
	srv := &mcpv1.MCPServer{}
	err := s.opts.Client.Get(q.Context(), client.ObjectKey{Namespace: ns, Name: name}, srv)
	if err != nil && !apierrors.IsNotFound(err) {
		return reply{}, &failure{status: http.StatusServiceUnavailable, msg: "try again",
			log: "Reading an MCPServer failed", err: fmt.Errorf("reading MCPServer %s/%s: %w", ns, name, err)}
	}
	if err != nil || srv.Spec.Auth.Type != mcpv1.AuthTypeOAuth2 || srv.Status.OAuth2 == nil ||
		srv.Status.OAuth2.Registration != mcpv1.RegistrationCIMD {
		return reply{}, errNotFound
	}
	return reply{json: json.RawMessage(oauth.ClientMetadataDocument(
		mcpauth.ClientMetadataURL(s.opts.PublicURL, ns, name),
		srv.Spec.DisplayName,
		mcpauth.RedirectURI(s.opts.PublicURL, ns, name),
		srv.Status.OAuth2.Scopes,
	))}, nil
}
