package fakeauth

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// A grant is one user's authorization of one client; every token issued from
// one authorization code (and its refreshes) belongs to it.
type grant struct {
	id       string
	clientID string
	subject  string
	scope    string
	resource string
	refresh  string // current refresh token, empty if none
	revoked  bool
}

type tokenKind int

const (
	accessToken tokenKind = iota
	refreshToken
)

type token struct {
	kind    tokenKind
	grantID string
	scope   string
	expires time.Time // zero: never
	rotated bool      // a refresh token replaced by a newer one
}

// Tokens is what a token response carries.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

func (s *Server) newGrantLocked(c *client, subject, scope, resource string) *grant {
	g := &grant{id: newSecret("grant-"), clientID: c.ID, subject: subject, scope: scope, resource: resource}
	s.grants[g.id] = g
	return g
}

// hasGrantLocked reports whether client has a live grant for subject.
func (s *Server) hasGrantLocked(clientID, subject string) bool {
	for _, g := range s.grants {
		if g.clientID == clientID && g.subject == subject && !g.revoked {
			return true
		}
	}
	return false
}

// issueLocked mints an access token for g with scope, and a refresh token
// when withRefresh.
func (s *Server) issueLocked(g *grant, scope string, withRefresh bool) Tokens {
	now := s.now()
	at := newSecret("at-")
	s.tokens[at] = &token{kind: accessToken, grantID: g.id, scope: scope, expires: now.Add(s.opts.AccessTokenTTL)}
	out := Tokens{
		AccessToken: at, TokenType: "Bearer", Scope: scope,
		ExpiresIn: int64(s.opts.AccessTokenTTL / time.Second),
	}
	if withRefresh {
		rt := newSecret("rt-")
		t := &token{kind: refreshToken, grantID: g.id, scope: g.scope}
		if s.opts.RefreshTokenTTL > 0 {
			t.expires = now.Add(s.opts.RefreshTokenTTL)
		}
		s.tokens[rt] = t
		g.refresh = rt
		out.RefreshToken = rt
	}
	return out
}

// refreshAllowed reports whether c gets refresh tokens for scope.
func (s *Server) refreshAllowed(c *client, scope string) bool {
	if !slices.Contains(c.GrantTypes, "refresh_token") {
		return false
	}
	return !s.opts.OfflineAccess || slices.Contains(strings.Fields(scope), "offline_access")
}

// accessTokenInfo returns the live access token and its grant.
func (s *Server) accessTokenInfo(tok string) (*token, *grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || t.kind != accessToken || s.revoked[tok] {
		return nil, nil, false
	}
	g := s.grants[t.grantID]
	if g == nil || g.revoked || !s.now().Before(t.expires) {
		return nil, nil, false
	}
	return t, g, true
}

func (s *Server) grantOfLocked(tok string) *grant {
	t, ok := s.tokens[tok]
	if !ok {
		return nil
	}
	return s.grants[t.grantID]
}

// GrantAlive reports whether the grant that issued tok (an access or refresh
// token, current or rotated) still stands.
func (s *Server) GrantAlive(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantOfLocked(tok)
	return g != nil && !g.revoked
}

// AccessTokenScope is the scope a live access token was issued with; ok is
// false when tok is unknown, expired or revoked.
func (s *Server) AccessTokenScope(tok string) (scope string, ok bool) {
	t, _, ok := s.accessTokenInfo(tok)
	if !ok {
		return "", false
	}
	return t.scope, true
}

// RevokeGrant kills the grant that issued tok, as when a user revokes the
// app at the provider; refreshes then get invalid_grant.
func (s *Server) RevokeGrant(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantOfLocked(tok)
	if g == nil {
		return false
	}
	g.revoked = true
	return true
}

// WasRevoked reports whether tok was revoked through the RFC 7009 endpoint
// (directly, or because its grant's refresh token was).
func (s *Server) WasRevoked(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[tok]
}

// IssueTokens mints tokens for clientID without a browser flow, as if the
// default subject had authorized scopes (default: Options.Scopes). A refresh
// token is included under the same rules as the token endpoint.
func (s *Server) IssueTokens(clientID string, scopes ...string) (Tokens, error) {
	return s.IssueTokensFor(clientID, s.MCPURL(), scopes...)
}

// IssueTokensFor is IssueTokens for a grant bound to resource, the MCP URL
// or one of Options.ResourceAliases.
func (s *Server) IssueTokensFor(clientID, resource string, scopes ...string) (Tokens, error) {
	if !s.namesMCPServer(resource) {
		return Tokens{}, errors.New("fakeauth: unknown resource")
	}
	scope, ok := s.checkScope(strings.Join(scopes, " "))
	if !ok {
		return Tokens{}, errors.New("fakeauth: unknown scope")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return Tokens{}, errors.New("fakeauth: unknown client")
	}
	g := s.newGrantLocked(c, s.opts.Subject, scope, resource)
	return s.issueLocked(g, scope, s.refreshAllowed(c, scope)), nil
}
