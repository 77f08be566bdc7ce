package callback

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// revokeTimeout bounds revocation on disconnect: the user is disconnected
// either way.
const revokeTimeout = 5 * time.Second

// Connection is one entry of GET /connections.
type Connection struct {
	Namespace   string         `json:"namespace"`
	Name        string         `json:"name"`
	DisplayName string         `json:"displayName"`
	AuthType    mcpv1.AuthType `json:"authType"`
	Connected   bool           `json:"connected"`
	State       string         `json:"state,omitempty"`
	Expiry      *time.Time     `json:"expiry,omitempty"`
	Scopes      []string       `json:"scopes,omitempty"`
}

// ConnectionList is the body of GET /connections.
type ConnectionList struct {
	User        string       `json:"user"`
	Connections []Connection `json:"connections"`
}

// handleConnections lists every enabled MCPServer of the namespace and
// whether the signed-in user is connected to it: GET /connections.
func (s *Server) handleConnections(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user, idErr := s.userOf(r, ticketBearerOnly, "")
	if idErr != nil {
		writeJSONError(w, idErr.status, idErr.msg)
		return
	}
	servers := &mcpv1.MCPServerList{}
	if err := s.opts.Client.List(ctx, servers, client.InNamespace(s.opts.Namespace)); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing MCPServers failed", "namespace", s.opts.Namespace)
		writeJSONError(w, http.StatusServiceUnavailable, "the MCP servers could not be listed; try again")
		return
	}
	out := ConnectionList{User: user, Connections: []Connection{}}
	for i := range servers.Items {
		srv := &servers.Items[i]
		if !srv.IsEnabled() {
			continue
		}
		c, err := s.connection(ctx, srv, user)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Reading a connection failed", "server", srv.Name)
			writeJSONError(w, http.StatusServiceUnavailable, "your connections could not be read; try again")
			return
		}
		out.Connections = append(out.Connections, c)
	}
	slices.SortFunc(out.Connections, func(a, b Connection) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, out)
}

// connection describes user's connection to srv. Non-OAuth2 servers need no
// per-user connection and are always connected.
func (s *Server) connection(ctx context.Context, srv *mcpv1.MCPServer, user string) (Connection, error) {
	c := Connection{Namespace: srv.Namespace, Name: srv.Name, DisplayName: srv.Spec.DisplayName, AuthType: srv.Spec.Auth.Type}
	if c.AuthType == "" {
		c.AuthType = mcpv1.DefaultAuthType
	}
	if c.AuthType != mcpv1.AuthTypeOAuth2 {
		c.Connected = true
		return c, nil
	}
	sec, err := s.getTokenSecret(ctx, srv.Namespace, srv.Name, user)
	if err != nil || sec == nil {
		return c, err
	}
	rec := tokensecret.Read(sec)
	c.State = string(rec.State)
	c.Scopes = rec.Scopes
	if !rec.Expiry.IsZero() {
		c.Expiry = &rec.Expiry
	}
	c.Connected = rec.Usable(s.opts.Now())
	return c, nil
}

// handleDisconnect revokes and deletes the user's tokens for one server:
// DELETE /connections/{namespace}/{name}. It answers 204 also when there
// was nothing to delete.
func (s *Server) handleDisconnect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := ctrl.LoggerFrom(ctx)
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if !s.inNamespace(r) {
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	user, idErr := s.userOf(r, ticketBearerOnly, ns+"/"+name)
	if idErr != nil {
		disconnectsTotal.WithLabelValues(resultUnauthorized).Inc()
		writeJSONError(w, idErr.status, idErr.msg)
		return
	}
	log = log.WithValues("server", name, "userHash", mcpauth.UserHash(user))
	// The Secret's name derives from the signed-in user: no one can name
	// another user's connection.
	sec, err := s.getTokenSecret(ctx, ns, name, user)
	if err != nil {
		log.Error(err, "Disconnect failed")
		writeJSONError(w, http.StatusServiceUnavailable, "your connection could not be read; try again")
		return
	}
	if sec == nil {
		disconnectsTotal.WithLabelValues(resultDisconnected).Inc()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.revoke(ctx, log, ns, name, sec)
	if err := s.deleteTokenSecret(ctx, sec); err != nil {
		log.Error(err, "Disconnect failed")
		writeJSONError(w, http.StatusServiceUnavailable, "your connection could not be deleted; try again")
		return
	}
	disconnectsTotal.WithLabelValues(resultDisconnected).Inc()
	log.Info("User disconnected")
	w.WriteHeader(http.StatusNoContent)
}

// revoke revokes the refresh token (which ends the grant at most servers)
// and then the access token, within revokeTimeout. Failures are logged and
// do not stop the disconnect.
func (s *Server) revoke(ctx context.Context, log logr.Logger, ns, name string, sec *corev1.Secret) {
	srv := &mcpv1.MCPServer{}
	if err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, srv); err != nil {
		log.V(1).Info("Not revoking: the MCPServer could not be read", "reason", err.Error())
		return
	}
	cfg, err := serverconfig.Load(ctx, s.opts.Client, srv)
	if err != nil {
		log.V(1).Info("Not revoking: OAuth2 is not configured", "reason", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	rec := tokensecret.Read(sec)
	for _, t := range []struct{ token, hint string }{
		{rec.RefreshToken, "refresh_token"},
		{rec.AccessToken, "access_token"},
	} {
		if err := oauth.Revoke(ctx, s.opts.HTTPClient, cfg, t.token, t.hint); err != nil {
			log.Info("Revoking a token failed; deleting it anyway", "tokenType", t.hint, "reason", err.Error())
		}
	}
}
