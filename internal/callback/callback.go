package callback

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// maxShownErrorRunes bounds the authorization server's error text shown to
// the user (escaped; never logged).
const maxShownErrorRunes = 200

// callback finishes the flow: GET /callback/{namespace}/{name}. The user
// is the flow cookie's, never the query's, and the request must come from
// that same user (sameUser).
func (s *Server) callback(q *request) (reply, error) {
	ctx := q.Context()
	ns, name := q.PathValue("namespace"), q.PathValue("name")
	f, err := s.readFlow(q.Request, ns, name)
	if err != nil {
		// A cookie that cannot be opened here can finish no sign-in.
		s.clearFlowCookie(q.header, ns, name)
		return reply{}, refuse(http.StatusBadRequest, resultBadFlow, err.Error())
	}
	q.user = f.User
	// Neither ends the flow: a request that is not its own cannot.
	if err := s.sameUser(q.Request, f); err != nil {
		return reply{}, err
	}
	if !f.Confirmed {
		return reply{}, &failure{status: http.StatusBadRequest, result: resultBadFlow, log: "Callback refused: the sign-in was not confirmed",
			msg: "this sign-in was not confirmed on the connect page and was ignored"}
	}
	srv, err := s.loadOAuthServer(ctx, ns, name, forExchange)
	if err != nil {
		return reply{}, err
	}
	cfg := srv.cfg
	code, err := oauth.ParseAuthorizationResponse(cfg, q.URL.Query(), f.State)
	if isStateMismatch(err) {
		// Not this flow's response (a stray or forged request): the flow
		// stays, so the authorization server's redirect still completes it.
		return reply{}, responseRefused(err)
	}
	// The response carries this flow's state: whatever happens next, the
	// flow is over.
	s.clearFlowCookie(q.header, ns, name)
	if cfg.Endpoint.Issuer != f.Issuer {
		return reply{}, refuse(http.StatusConflict, resultRejected, "the server's authorization server changed during sign-in; start connecting again")
	}
	if err != nil {
		return reply{}, responseRefused(err)
	}
	hc, err := s.trusted.For(s.opts.HTTPClient, cfg.CABundle)
	if err != nil {
		return reply{}, exchangeFailed(fmt.Errorf("the CA bundle copied into the OAuth client Secret %w", err))
	}
	// Single use, across replicas: claimed before the code is redeemed.
	fresh, err := s.used.claim(ctx, usedState, f.State, time.Unix(f.Expiry, 0))
	if err != nil {
		return reply{}, usedOnceFailed(err)
	}
	if !fresh {
		return reply{}, &failure{status: http.StatusBadRequest, result: resultBadFlow,
			msg: "this sign-in response was already used; start connecting again", log: "Callback refused: replayed"}
	}
	tok, err := oauth.Exchange(ctx, hc, cfg, code, f.Verifier)
	if err != nil {
		return reply{}, exchangeFailed(err)
	}
	scopes := tok.Scopes
	if scopes == nil {
		scopes = f.Scopes // RFC 6749 §5.1: no scope in the response means as requested
	}
	grant := tokensecret.Grant{
		User: f.User,
		Tokens: tokensecret.Tokens{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
			Expiry: tok.Expiry, Scopes: scopes},
		Issuer: f.Issuer, Resource: cfg.Resource, TokenEndpoint: cfg.Endpoint.TokenEndpoint, ClientID: cfg.Client.ClientID,
		IssuedAt: s.opts.Now(),
	}
	if err := s.writeTokenSecret(ctx, srv.server, grant); err != nil {
		return reply{}, &failure{status: http.StatusInternalServerError, result: resultStoreFailed,
			msg: "signing in worked, but your connection could not be saved; try again", log: "Storing the user's tokens failed", err: err}
	}
	return s.connected(f), nil
}

// isStateMismatch reports whether err is oauth.ParseAuthorizationResponse's
// answer to a request whose state is not the flow's.
func isStateMismatch(err error) bool {
	var are *oauth.AuthorizationResponseError
	return errors.As(err, &are) && are.Kind == oauth.StateMismatch
}

// responseRefused is the failure for an authorization response that
// oauth.ParseAuthorizationResponse did not accept.
func responseRefused(err error) *failure {
	var are *oauth.AuthorizationResponseError
	if !errors.As(err, &are) {
		are = &oauth.AuthorizationResponseError{}
	}
	switch {
	case are.Kind == oauth.StateMismatch:
		return &failure{status: http.StatusBadRequest, result: resultBadFlow, log: "Callback refused: state does not match the sign-in in progress",
			msg: "the response does not belong to the sign-in in progress (state mismatch) and was ignored; that sign-in can still finish"}
	case are.Kind == oauth.IssuerMismatch:
		return &failure{status: http.StatusBadRequest, result: resultIssuerMismatch, log: "Callback refused: not from the expected authorization server",
			msg: "the sign-in response did not come from the expected authorization server and was discarded; start connecting again"}
	case are.Kind == oauth.Denied && are.IsAccessDenied():
		return &failure{status: http.StatusForbidden, result: resultDenied, log: "The authorization server denied access",
			msg: "access was denied at the authorization server; connect again to retry"}
	case are.Kind == oauth.Denied:
		return &failure{status: http.StatusBadRequest, result: resultDenied, log: "The authorization server refused the sign-in",
			msg:    "the authorization server refused the sign-in: " + redact.Line(are.Code, 64),
			detail: redact.Line(are.Description, maxShownErrorRunes)}
	default: // oauth.NoCode
		return refuse(http.StatusBadRequest, resultDenied, "the sign-in response carries no authorization code; start connecting again")
	}
}

// exchangeFailed is a 502 without upstream detail. An invalid_client
// answer raises no re-registration signal: one callback request, which a
// user can feed a junk code, must not make the operator replace the client
// every other user depends on. The refresher's own refreshes, and an
// RFC 7592 read of the registration, decide that.
func exchangeFailed(err error) *failure {
	f := &failure{status: http.StatusBadGateway, result: resultExchangeFailed, log: "Code exchange failed", err: err, // TokenError messages carry no secrets
		msg: "the authorization server did not complete the sign-in; try connecting again"}
	var te *oauth.TokenError
	if errors.As(err, &te) && te.IsInvalidClient() {
		f.result = resultInvalidClient
		f.msg = "the authorization server did not accept mcp-operator's client; try connecting again, and if it keeps failing ask an administrator to check the MCP server's status"
	}
	return f
}

// connected ends a successful flow: 303 to the allowed return_to, else a
// page that tells the opener and closes the popup.
func (s *Server) connected(f flow) reply {
	out := reply{result: resultConnected, log: "User connected"}
	if rt, err := s.checkReturnTo(f.ReturnTo); err == nil && rt != "" {
		out.status, out.location = http.StatusSeeOther, rt
		return out
	}
	out.page = &pageData{
		Title:   "Connected",
		Message: "You can close this window.",
		Close:   true,
		Server:  f.Namespace + "/" + f.Name,
		Origin:  origin(s.base),
	}
	return out
}
