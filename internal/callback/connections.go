package callback

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
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

// connections lists every enabled MCPServer of the namespace and whether
// the signed-in user is connected to it: GET /connections.
func (s *Server) connections(q *request) (reply, error) {
	ctx := q.Context()
	id, err := s.identify(ctx, q.Request, ticketBearerOnly, "")
	if err != nil {
		return reply{}, err
	}
	user := id.user
	q.user = user
	servers, err := s.enabledServers(ctx)
	if err != nil {
		return reply{}, err
	}
	out := ConnectionList{User: user, Connections: []Connection{}}
	for i := range servers {
		c, err := s.connection(ctx, &servers[i], user)
		if err != nil {
			return reply{}, connectionUnreadable(err)
		}
		out.Connections = append(out.Connections, c)
	}
	slices.SortFunc(out.Connections, func(a, b Connection) int { return strings.Compare(a.Name, b.Name) })
	return reply{json: out}, nil
}

// enabledServers lists the namespace's enabled MCPServers.
func (s *Server) enabledServers(ctx context.Context) ([]mcpv1.MCPServer, error) {
	servers := &mcpv1.MCPServerList{}
	if err := s.opts.Client.List(ctx, servers, client.InNamespace(s.opts.Namespace)); err != nil {
		return nil, &failure{status: http.StatusServiceUnavailable, msg: "the MCP servers could not be listed; try again",
			log: "Listing MCPServers failed", err: fmt.Errorf("listing MCPServers in %s: %w", s.opts.Namespace, err)}
	}
	return slices.DeleteFunc(servers.Items, func(srv mcpv1.MCPServer) bool { return !srv.IsEnabled() }), nil
}

func connectionUnreadable(err error) error {
	return &failure{status: http.StatusServiceUnavailable, msg: "your connections could not be read; try again",
		log: "Reading a connection failed", err: err}
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
	sec, err := s.serverToken(ctx, srv, user)
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

// disconnect revokes and deletes the user's tokens for one server:
// DELETE /connections/{namespace}/{name}. It answers 204 also when there
// was nothing to delete.
func (s *Server) disconnect(q *request) (reply, error) {
	ctx := q.Context()
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	id, err := s.identify(ctx, q.Request, ticketBearerOnly, ns+"/"+name)
	if err != nil {
		return reply{}, err
	}
	user := id.user
	q.user = user
	// The Secret's name derives from the signed-in user: no one can name
	// another user's connection.
	sec, err := s.getTokenSecret(ctx, ns, name, user)
	if err != nil {
		return reply{}, &failure{status: http.StatusServiceUnavailable, msg: "your connection could not be read; try again",
			log: "Disconnect failed", err: err}
	}
	if sec == nil {
		return reply{status: http.StatusNoContent, result: resultDisconnected}, nil
	}
	s.revoke(ctx, ns, name, sec)
	if err := s.deleteTokenSecret(ctx, sec); err != nil {
		return reply{}, &failure{status: http.StatusServiceUnavailable, msg: "your connection could not be deleted; try again",
			log: "Disconnect failed", err: err}
	}
	return reply{status: http.StatusNoContent, result: resultDisconnected, log: "User disconnected"}, nil
}

// revoke revokes the refresh token (which ends the grant at most servers)
// and then the access token, within revokeTimeout. Failures are logged and
// do not stop the disconnect.
func (s *Server) revoke(ctx context.Context, ns, name string, sec *corev1.Secret) {
	log := ctrl.LoggerFrom(ctx)
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
	hc, err := s.trusted.For(s.opts.HTTPClient, cfg.CABundle)
	if err != nil {
		log.Info("Not revoking: the CA bundle copied into the OAuth client Secret is unusable", "reason", err.Error())
		return
	}
	rec := tokensecret.Read(sec)
	if err := oauth.RevokeGrant(ctx, hc, cfg, rec.RefreshToken, rec.AccessToken); err != nil {
		log.Info("Revoking the user's tokens failed; deleting them anyway", "reason", err.Error())
	}
}
