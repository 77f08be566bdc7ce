package callback

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// Limits on the optional scope parameter (step-up).
const (
	maxExtraScopes     = 32
	maxExtraScopeBytes = 1024
)

// connect starts a flow for the signed-in user and asks them to confirm it:
// GET /connect/{namespace}/{name}[?scope=...][&return_to=...][&ticket=...].
// It seals the flow, unconfirmed, into the flow cookie and answers a page
// naming the server and the chat account with one button; nothing goes to
// the authorization server until that button is pressed. A link someone
// else made thus shows their account name instead of silently connecting
// the user's upstream account to it.
func (s *Server) connect(q *request) (reply, error) {
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	id, err := s.identify(q.Context(), q.Request, ticketInQueryOrBearer, ns+"/"+name)
	if err != nil {
		return reply{}, err
	}
	q.user = id.user
	returnTo, err := s.checkReturnTo(q.URL.Query().Get("return_to"))
	if err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	extra, err := parseExtraScopes(q.URL.Query().Get("scope"))
	if err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	srv, err := s.loadOAuthServer(q.Context(), ns, name, forAuthorization)
	if err != nil {
		return reply{}, err
	}
	granted, err := s.grantedScopes(q.Context(), ns, name, id.user)
	if err != nil {
		return reply{}, &failure{status: http.StatusServiceUnavailable, result: resultRejected,
			msg: "your existing connection could not be read; try again", log: "Reading the user's connection failed", err: err}
	}

	f := flow{
		User: id.user, ByHeader: id.byHeader, Namespace: ns, Name: name,
		Verifier: oauth.NewVerifier(), State: oauth.NewState(), Issuer: srv.cfg.Endpoint.Issuer,
		// Step-up: ask for everything at once, so a new grant never loses scopes.
		Scopes:   oauth.UnionScopes(srv.cfg.Scopes, extra, granted),
		ReturnTo: returnTo,
		Expiry:   s.opts.Now().Add(flowTTL).Unix(),
	}
	if err := s.setFlowCookie(q.header, f); err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	return reply{result: resultConfirmationShown, page: &pageData{
		Title: "Connect " + srv.server.Spec.DisplayName,
		Confirm: &confirmForm{
			Action: mcpauth.ConnectURL(s.opts.PublicURL, ns, name), Token: confirmToken(f),
			Server: srv.server.Spec.DisplayName, User: id.user,
		},
	}}, nil
}

// confirmField is the confirmation form's one field.
const confirmField = "confirm"

// confirm sends the user who pressed the confirmation page's button to the
// authorization server: POST /connect/{namespace}/{name}. The form carries
// confirmToken of the flow in the cookie, which only a page this server
// showed that browser holds (double submit): a form on another site can
// neither read it nor, with SameSite=Lax, send the cookie along.
func (s *Server) confirm(q *request) (reply, error) {
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	f, err := s.readFlow(q.Request, ns, name)
	if err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultBadFlow, err.Error())
	}
	q.user = f.User
	if subtle.ConstantTimeCompare([]byte(q.PostFormValue(confirmField)), []byte(confirmToken(f))) != 1 {
		return reply{}, &failure{status: http.StatusForbidden, result: resultBadFlow, log: "Confirmation refused: not the sign-in in progress",
			msg: "this confirmation does not belong to the sign-in in progress; start connecting again"}
	}
	if err := s.sameUser(q.Request, f); err != nil {
		return reply{}, err
	}
	srv, err := s.loadOAuthServer(q.Context(), ns, name, forAuthorization)
	if err != nil {
		return reply{}, err
	}
	if srv.cfg.Endpoint.Issuer != f.Issuer {
		s.clearFlowCookie(q.header, ns, name)
		return reply{}, refuse(http.StatusConflict, resultRejected, "the server's authorization server changed during sign-in; start connecting again")
	}
	f.Confirmed = true
	if err := s.setFlowCookie(q.header, f); err != nil {
		return reply{}, refuse(http.StatusBadRequest, resultRejected, err.Error())
	}
	cfg := srv.cfg
	cfg.Scopes = f.Scopes
	return reply{status: http.StatusSeeOther, location: oauth.AuthCodeURL(cfg, f.State, f.Verifier), result: resultRedirected}, nil
}

// confirmToken is the confirmation form's value for f: a hash of its state,
// which only the sealed cookie holds, so it needs no field of its own and
// reveals nothing of the state.
func confirmToken(f flow) string {
	sum := sha256.Sum256([]byte("mcp-operator connect confirmation\x00" + f.State))
	return base64.RawURLEncoding.EncodeToString(sum[:])
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
