package callback

import (
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// handleClientMetadata serves the Client ID Metadata Document of a server
// whose client is registered through CIMD:
// GET /client-metadata/{namespace}/{name}.json. Public: authorization
// servers fetch it.
func (s *Server) handleClientMetadata(w http.ResponseWriter, r *http.Request) {
	ns := r.PathValue("namespace")
	name, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	if !s.inNamespace(r) || !ok || name == "" {
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	srv := &mcpv1.MCPServer{}
	err := s.opts.Client.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, srv)
	if err != nil && !apierrors.IsNotFound(err) {
		ctrl.LoggerFrom(r.Context()).Error(err, "Reading an MCPServer failed", "server", name)
		writeJSONError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	if err != nil || srv.Spec.Auth.Type != mcpv1.AuthTypeOAuth2 || srv.Status.OAuth2 == nil ||
		srv.Status.OAuth2.Registration != mcpv1.RegistrationCIMD {
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	doc := oauth.ClientMetadataDocument(
		mcpauth.ClientMetadataURL(s.opts.PublicURL, ns, name),
		srv.Spec.DisplayName,
		mcpauth.RedirectURI(s.opts.PublicURL, ns, name),
		srv.Status.OAuth2.Scopes,
	)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}
