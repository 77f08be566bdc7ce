package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// maxShownErrorRunes bounds the authorization server's error text shown to
// the user (escaped; never logged).
const maxShownErrorRunes = 200

// handleCallback finishes the flow: GET /callback/{namespace}/{name}.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := ctrl.LoggerFrom(ctx)
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if !s.inNamespace(r) {
		callbacksTotal.WithLabelValues(resultRejected).Inc()
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	f, err := s.readFlow(r, ns, name)
	// Whatever happens next, this flow is over.
	s.clearFlowCookie(w, ns, name)
	if err != nil {
		callbacksTotal.WithLabelValues(resultBadFlow).Inc()
		log.V(1).Info("Callback refused", "server", name, "reason", err.Error())
		writeErrorPage(w, http.StatusBadRequest, err.Error())
		return
	}
	log = log.WithValues("server", name, "userHash", mcpauth.UserHash(f.User))
	srv, rerr := s.loadOAuthServer(ctx, ns, name)
	if rerr != nil {
		callbacksTotal.WithLabelValues(resultRejected).Inc()
		if rerr.err != nil {
			log.Error(rerr.err, "Callback failed")
		}
		writeErrorPage(w, rerr.status, rerr.msg)
		return
	}
	cfg := srv.cfg
	if cfg.Endpoint.Issuer != f.Issuer {
		callbacksTotal.WithLabelValues(resultRejected).Inc()
		writeErrorPage(w, http.StatusConflict, "the server's authorization server changed during sign-in; start connecting again")
		return
	}
	code, err := oauth.ParseAuthorizationResponse(cfg, r.URL.Query(), f.State)
	if err != nil {
		s.responseRefused(w, log, err)
		return
	}
	// Single use: claimed before the code is redeemed.
	if !s.used.claim(f.State, time.Unix(f.Expiry, 0), s.opts.Now()) {
		callbacksTotal.WithLabelValues(resultBadFlow).Inc()
		log.Info("Callback refused: replayed")
		writeErrorPage(w, http.StatusBadRequest, "this sign-in response was already used; start connecting again")
		return
	}
	tok, err := oauth.Exchange(ctx, s.opts.HTTPClient, cfg, code, f.Verifier)
	if err != nil {
		s.exchangeFailed(ctx, w, log, srv, err)
		return
	}
	scopes := tok.Scopes
	if scopes == nil {
		scopes = f.Scopes // RFC 6749 §5.1: no scope in the response means as requested
	}
	grant := tokensecret.Grant{
		User: f.User,
		Tokens: tokensecret.Tokens{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
			Expiry: tok.Expiry, Scopes: scopes},
		Issuer: f.Issuer, Resource: cfg.Resource, IssuedAt: s.opts.Now(),
	}
	if err := s.writeTokenSecret(ctx, srv.server, grant); err != nil {
		callbacksTotal.WithLabelValues(resultStoreFailed).Inc()
		log.Error(err, "Storing the user's tokens failed")
		writeErrorPage(w, http.StatusInternalServerError, "signing in worked, but your connection could not be saved; try again")
		return
	}
	callbacksTotal.WithLabelValues(resultConnected).Inc()
	log.Info("User connected", "scopes", len(scopes), "refreshToken", tok.RefreshToken != "")
	s.connected(w, r, f)
}

// responseRefused answers an authorization response that
// oauth.ParseAuthorizationResponse did not accept.
func (s *Server) responseRefused(w http.ResponseWriter, log logr.Logger, err error) {
	var are *oauth.AuthorizationResponseError
	if !errors.As(err, &are) {
		are = &oauth.AuthorizationResponseError{}
	}
	switch are.Kind {
	case oauth.StateMismatch:
		callbacksTotal.WithLabelValues(resultBadFlow).Inc()
		log.Info("Callback refused: state does not match the sign-in in progress")
		writeErrorPage(w, http.StatusBadRequest, "the response does not belong to the sign-in in progress (state mismatch); start connecting again")
	case oauth.IssuerMismatch:
		callbacksTotal.WithLabelValues(resultIssuerMismatch).Inc()
		log.Info("Callback refused", "reason", err.Error())
		writeErrorPage(w, http.StatusBadRequest, "the sign-in response did not come from the expected authorization server and was discarded; start connecting again")
	case oauth.Denied:
		s.authorizationError(w, log, are)
	default: // oauth.NoCode
		callbacksTotal.WithLabelValues(resultDenied).Inc()
		writeErrorPage(w, http.StatusBadRequest, "the sign-in response carries no authorization code; start connecting again")
	}
}

// authorizationError shows the authorization server's error response.
func (s *Server) authorizationError(w http.ResponseWriter, log logr.Logger, are *oauth.AuthorizationResponseError) {
	callbacksTotal.WithLabelValues(resultDenied).Inc()
	log.Info("The authorization server refused the sign-in", "error", redact.Line(are.Code, 64))
	if are.IsAccessDenied() {
		writeErrorPage(w, http.StatusForbidden, "access was denied at the authorization server; connect again to retry")
		return
	}
	writePage(w, http.StatusBadRequest, pageData{
		Title:   "Connection failed",
		Message: "the authorization server refused the sign-in: " + redact.Line(are.Code, 64),
		Detail:  redact.Line(are.Description, maxShownErrorRunes),
	})
}

// exchangeFailed answers 502 without upstream detail; invalid_client also
// raises the re-registration signal on the MCPServer.
func (s *Server) exchangeFailed(ctx context.Context, w http.ResponseWriter, log logr.Logger, srv *oauthServer, err error) {
	log.Error(err, "Code exchange failed") // TokenError messages carry no secrets
	var te *oauth.TokenError
	if errors.As(err, &te) && te.IsInvalidClient() {
		callbacksTotal.WithLabelValues(resultInvalidClient).Inc()
		if perr := s.flagClientInvalid(ctx, srv.server, srv.cfg.Client.ClientID); perr != nil {
			log.Error(perr, "Setting the re-registration signal failed")
		}
		writeErrorPage(w, http.StatusBadGateway, "the authorization server no longer accepts mcp-operator's client; it is being registered again, connect again in a minute")
		return
	}
	callbacksTotal.WithLabelValues(resultExchangeFailed).Inc()
	writeErrorPage(w, http.StatusBadGateway, "the authorization server did not complete the sign-in; try connecting again")
}

// flagClientInvalid raises the re-registration signal on the MCPServer
// (tokensecret.MarkClientInvalidPatch).
func (s *Server) flagClientInvalid(ctx context.Context, srv *mcpv1.MCPServer, clientID string) error {
	patch := tokensecret.MarkClientInvalidPatch(srv, clientID)
	if patch == nil {
		return nil
	}
	if err := s.opts.Client.Patch(ctx, srv, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("annotating MCPServer %s/%s with %s: %w", srv.Namespace, srv.Name, mcpv1.AnnotationClientInvalid, err)
	}
	return nil
}

// connected ends a successful flow: 303 to the allowed return_to, else a
// page that tells the opener and closes the popup.
func (s *Server) connected(w http.ResponseWriter, r *http.Request, f flow) {
	if rt, err := s.checkReturnTo(f.ReturnTo); err == nil && rt != "" {
		http.Redirect(w, r, rt, http.StatusSeeOther)
		return
	}
	writePage(w, http.StatusOK, pageData{
		Title:   "Connected",
		Message: "You can close this window.",
		Close:   true,
		Server:  f.Namespace + "/" + f.Name,
		Origin:  origin(s.base),
	})
}
