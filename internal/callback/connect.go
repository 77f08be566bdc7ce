package callback

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// Limits on the optional scope parameter (step-up).
const (
	maxExtraScopes     = 32
	maxExtraScopeBytes = 1024
)

// connect starts the authorization-code flow for the signed-in user:
// GET /connect/{namespace}/{name}[?scope=...][&return_to=...][&ticket=...].
func (s *Server) connect(q *request) (reply, error) {
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	user, err := s.userOf(q.Request, ticketInQueryOrBearer, ns+"/"+name)
	if err != nil {
		return reply{}, err
	}
	q.user = user
	returnTo, err := s.checkReturnTo(q.URL.Query().Get("return_to"))
	if err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	extra, err := parseExtraScopes(q.URL.Query().Get("scope"))
	if err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	srv, err := s.loadOAuthServer(q.Context(), ns, name)
	if err != nil {
		return reply{}, err
	}
	granted, err := s.grantedScopes(q.Context(), ns, name, user)
	if err != nil {
		return reply{}, &failure{status: http.StatusServiceUnavailable, result: resultRejected,
			msg: "your existing connection could not be read; try again", log: "Reading the user's connection failed", err: err}
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
	if err := s.setFlowCookie(q.header, f); err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	return reply{status: http.StatusFound, location: oauth.AuthCodeURL(cfg, f.State, f.Verifier), result: resultRedirected}, nil
}

// grantedScopes are the scopes of the user's current grant, if any.
func (s *Server) grantedScopes(ctx context.Context, ns, name, user string) ([]string, error) {
	sec, err := s.getTokenSecret(ctx, ns, name, user)
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
		if !oauth.ValidScopeToken(sc) {
			return nil, fmt.Errorf("the scope parameter contains a character not allowed in an OAuth scope")
		}
	}
	return scopes, nil
}
