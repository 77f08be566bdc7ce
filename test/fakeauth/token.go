package fakeauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// codeVerifier is the RFC 7636 §4.1 verifier syntax.
var codeVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// handleToken serves the authorization_code and refresh_token grants.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	tokens, e := s.token(r)
	if e != nil {
		s.bump(func(c *Counters) { c.TokenErrors++ })
		e.write(w)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokens)
}

func (s *Server) token(r *http.Request) (Tokens, *oauthErr) {
	if e := parseTokenForm(r); e != nil {
		return Tokens{}, e
	}
	c, e := s.authenticateClient(r)
	if e != nil {
		return Tokens{}, e
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		return s.exchangeCode(c, r)
	case "refresh_token":
		return s.refresh(c, r)
	case "":
		return Tokens{}, badRequest("invalid_request", "grant_type is required")
	}
	return Tokens{}, badRequest("unsupported_grant_type", "")
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) exchangeCode(c *client, r *http.Request) (Tokens, *oauthErr) {
	form := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, ok := s.codes[form.Get("code")]
	if !ok || ac.clientID != c.ID {
		return Tokens{}, badRequest("invalid_grant", "unknown authorization code")
	}
	if ac.used {
		// RFC 6749 §4.1.2: revoke what the code already produced.
		if g := s.grants[ac.grantID]; g != nil {
			g.revoked = true
		}
		s.bump(func(c *Counters) { c.CodeReplayed++ })
		return Tokens{}, badRequest("invalid_grant", "authorization code already used")
	}
	ac.used = true // single use, whatever happens next
	if !s.now().Before(ac.expires) {
		return Tokens{}, badRequest("invalid_grant", "authorization code expired")
	}
	if ru, given := form.Get("redirect_uri"), form.Has("redirect_uri"); (ac.redirectGiven || given) && ru != ac.redirectURI {
		return Tokens{}, badRequest("invalid_grant", "redirect_uri does not match the authorization request")
	}
	verifier := form.Get("code_verifier")
	if verifier == "" {
		return Tokens{}, badRequest("invalid_request", "code_verifier is required (PKCE)")
	}
	if !codeVerifier.MatchString(verifier) {
		return Tokens{}, badRequest("invalid_grant", "code_verifier is malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.challenge)) != 1 {
		return Tokens{}, badRequest("invalid_grant", "code_verifier does not match code_challenge")
	}
	if e := s.checkTokenResource(form["resource"], ac.resource); e != nil {
		return Tokens{}, e
	}
	consentedBefore := s.opts.RefreshTokenAtFirstConsentOnly && s.hasGrantLocked(c.ID, ac.subject)
	g := s.newGrantLocked(c, ac.subject, ac.scope, ac.resource)
	ac.grantID = g.id
	return s.issueLocked(g, g.scope, s.refreshAllowed(c, g.scope) && !consentedBefore), nil
}

// checkTokenResource checks the resource of a token request against the
// grant's (RFC 8707 §2.2).
func (s *Server) checkTokenResource(values []string, want string) *oauthErr {
	switch {
	case len(values) == 0 && (s.opts.ResourceOptional || s.opts.RejectResourceOnAuthorize):
		return nil
	case len(values) == 0:
		return badRequest("invalid_request", "resource parameter is required (RFC 8707)")
	case len(values) > 1 || values[0] != want:
		return badRequest("invalid_target", "resource does not match the grant")
	}
	return nil
}

// refresh redeems a refresh token (RFC 6749 §6), rotating it unless
// disabled; a replayed rotated token revokes the grant.
func (s *Server) refresh(c *client, r *http.Request) (Tokens, *oauthErr) {
	form := r.PostForm
	rt := form.Get("refresh_token")
	if rt == "" {
		return Tokens{}, badRequest("invalid_request", "refresh_token is required")
	}
	if !slices.Contains(c.GrantTypes, "refresh_token") {
		return Tokens{}, badRequest("unauthorized_client", "client is not registered for the refresh_token grant")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[rt]
	if !ok || t.kind != refreshToken {
		return Tokens{}, badRequest("invalid_grant", "unknown refresh token")
	}
	g := s.grants[t.grantID]
	if g == nil || g.clientID != c.ID {
		return Tokens{}, badRequest("invalid_grant", "unknown refresh token")
	}
	if g.revoked || s.revoked[rt] {
		return Tokens{}, badRequest("invalid_grant", "grant revoked")
	}
	if t.rotated {
		if !s.opts.DisableReuseDetection {
			g.revoked = true
			s.bump(func(c *Counters) { c.ReuseDetected++ })
			return Tokens{}, badRequest("invalid_grant", "refresh token reused; grant revoked")
		}
		return Tokens{}, badRequest("invalid_grant", "refresh token already used")
	}
	if !t.expires.IsZero() && !s.now().Before(t.expires) {
		return Tokens{}, badRequest("invalid_grant", "refresh token expired")
	}
	if e := s.checkTokenResource(form["resource"], g.resource); e != nil {
		return Tokens{}, e
	}
	// RFC 6749 §6: no scope means the grant's; a scope the grant lacks is
	// refused, in node-oidc-provider's words.
	scope := g.scope
	if req := strings.Fields(form.Get("scope")); len(req) > 0 {
		granted := strings.Fields(g.scope)
		for _, sc := range req {
			if !slices.Contains(granted, sc) {
				return Tokens{}, badRequest("invalid_scope", "refresh token missing requested scope")
			}
		}
		scope = strings.Join(req, " ")
	}
	if s.opts.DisableRefreshRotation {
		return s.issueLocked(g, scope, false), nil
	}
	t.rotated = true
	return s.issueLocked(g, scope, true), nil
}

// handleRevoke is RFC 7009 token revocation. Revoking a refresh token
// revokes its grant and every token of it.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if e := parseTokenForm(r); e != nil {
		e.write(w)
		return
	}
	c, e := s.authenticateClient(r)
	if e != nil {
		e.write(w)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		badRequest("invalid_request", "token is required").write(w)
		return
	}
	s.mu.Lock()
	if t, ok := s.tokens[tok]; ok {
		if g := s.grants[t.grantID]; g != nil && g.clientID == c.ID {
			s.revoked[tok] = true
			if t.kind == refreshToken {
				g.revoked = true
				for v, other := range s.tokens {
					if other.grantID == g.id {
						s.revoked[v] = true
					}
				}
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
