package callback

import (
	"fmt"
	"net/http"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// Limits on the optional scope parameter (step-up).
const (
	maxExtraScopes     = 32
	maxExtraScopeBytes = 1024
)

// handleConnect starts the authorization-code flow for the signed-in user:
// GET /connect/{namespace}/{name}[?scope=...][&return_to=...][&ticket=...].
func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := ctrl.LoggerFrom(ctx)
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if !s.inNamespace(r) {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	user, idErr := s.userOf(r, ticketInQueryOrBearer, ns+"/"+name)
	if idErr != nil {
		connectsTotal.WithLabelValues(resultUnauthorized).Inc()
		log.V(1).Info("Connect refused: no valid user", "server", name, "reason", idErr.msg)
		writeJSONError(w, idErr.status, idErr.msg)
		return
	}
	log = log.WithValues("server", name, "userHash", mcpauth.UserHash(user))

	q := r.URL.Query()
	returnTo, err := s.checkReturnTo(q.Get("return_to"))
	if err != nil {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		writeErrorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	extra, err := parseExtraScopes(q.Get("scope"))
	if err != nil {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		writeErrorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	srv, rerr := s.loadOAuthServer(ctx, ns, name)
	if rerr != nil {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		if rerr.err != nil {
			log.Error(rerr.err, "Connect failed")
		}
		writeErrorPage(w, rerr.status, rerr.msg)
		return
	}
	granted, err := s.grantedScopes(r, ns, name, user)
	if err != nil {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		log.Error(err, "Connect failed")
		writeErrorPage(w, http.StatusServiceUnavailable, "your existing connection could not be read; try again")
		return
	}

	cfg := srv.cfg
	// Step-up: ask for everything at once, so a new grant never loses scopes.
	cfg.Scopes = oauth.UnionScopes(cfg.Scopes, extra, granted)
	f := flow{
		User: user, Namespace: ns, Name: name,
		Verifier: oauth.NewVerifier(), State: oauth.NewState(),
		Issuer: cfg.Endpoint.Issuer, Scopes: cfg.Scopes, ReturnTo: returnTo,
		Expiry: s.opts.Now().Add(flowTTL).Unix(),
	}
	if err := s.setFlowCookie(w, f); err != nil {
		connectsTotal.WithLabelValues(resultRejected).Inc()
		writeErrorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	connectsTotal.WithLabelValues(resultRedirected).Inc()
	log.V(1).Info("Redirecting to the authorization server", "authorizationEndpoint", cfg.Endpoint.AuthorizationEndpoint, "scopes", len(cfg.Scopes))
	http.Redirect(w, r, oauth.AuthCodeURL(cfg, f.State, f.Verifier), http.StatusFound)
}

// grantedScopes are the scopes of the user's current grant, if any.
func (s *Server) grantedScopes(r *http.Request, ns, name, user string) ([]string, error) {
	sec, err := s.getTokenSecret(r.Context(), ns, name, user)
	if err != nil || sec == nil {
		return nil, err
	}
	return tokensecret.Read(sec).Scopes, nil
}

// parseExtraScopes validates the scope query parameter (RFC 6749 §3.3
// scope-token characters).
func parseExtraScopes(raw string) ([]string, error) {
	if len(raw) > maxExtraScopeBytes {
		return nil, fmt.Errorf("the scope parameter is longer than %d bytes", maxExtraScopeBytes)
	}
	scopes := oauth.ParseScope(raw)
	if len(scopes) > maxExtraScopes {
		return nil, fmt.Errorf("the scope parameter names more than %d scopes", maxExtraScopes)
	}
	for _, sc := range scopes {
		if strings.IndexFunc(sc, func(c rune) bool { return c < 0x21 || c > 0x7e || c == '"' || c == '\\' }) >= 0 {
			return nil, fmt.Errorf("the scope parameter contains a character not allowed in an OAuth scope")
		}
	}
	return scopes, nil
}
