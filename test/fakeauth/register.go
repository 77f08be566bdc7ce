package fakeauth

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Token endpoint client authentication methods.
const (
	AuthNone  = "none"
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

var authMethods = []string{AuthNone, AuthBasic, AuthPost}

// Client is an OAuth client the fake knows: registered through DCR, added
// with AddClient, or a Client ID Metadata Document client seen at /authorize.
type Client struct {
	ID              string
	Secret          string // empty for AuthNone
	Name            string
	RedirectURIs    []string
	AuthMethod      string   // AuthNone, AuthBasic or AuthPost
	GrantTypes      []string // authorization_code, refresh_token
	ApplicationType string
	Dynamic         bool // registered through RFC 7591
	CIMD            bool // client ID is a metadata document URL
}

// client is never changed once stored in s.clients: an update stores a new
// one, so a handler may read a client it looked up after unlocking.
type client struct {
	Client
	rat           string    // RFC 7592 registration access token
	secretExpires time.Time // zero: never
}

func (c *client) copyOut() Client {
	out := c.Client
	out.RedirectURIs = slices.Clone(c.RedirectURIs)
	out.GrantTypes = slices.Clone(c.GrantTypes)
	return out
}

// registrationRequest is the RFC 7591 client metadata the fake reads.
type registrationRequest struct {
	RedirectURIs    []string `json:"redirect_uris"`
	AuthMethod      string   `json:"token_endpoint_auth_method"`
	GrantTypes      []string `json:"grant_types"`
	ResponseTypes   []string `json:"response_types"`
	ClientName      string   `json:"client_name"`
	ApplicationType string   `json:"application_type"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "content type must be application/json")
		return
	}
	var req registrationRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "body is not a JSON object")
		return
	}
	c, code, desc := s.validateRegistration(req)
	if code != "" {
		oauthError(w, http.StatusBadRequest, code, desc)
		return
	}
	s.mu.Lock()
	s.clients[c.ID] = c
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.registrationResponse(c))
}

func (s *Server) validateRegistration(req registrationRequest) (*client, string, string) {
	if len(req.RedirectURIs) == 0 {
		return nil, "invalid_redirect_uri", "redirect_uris is required"
	}
	switch req.ApplicationType {
	case "", "web", "native":
	default:
		return nil, "invalid_client_metadata", "application_type must be web or native"
	}
	for _, u := range req.RedirectURIs {
		if err := s.checkRedirectURI(u, req.ApplicationType == "native"); err != nil {
			return nil, "invalid_redirect_uri", err.Error()
		}
	}
	method := req.AuthMethod
	if method == "" {
		method = AuthBasic // RFC 7591 §2 default
	}
	if !slices.Contains(authMethods, method) {
		return nil, "invalid_client_metadata", "unsupported token_endpoint_auth_method"
	}
	if s.opts.DCRAuthMethod != "" {
		method = s.opts.DCRAuthMethod
	}
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = []string{"authorization_code"}
	}
	for _, g := range grants {
		if g != "authorization_code" && g != "refresh_token" {
			return nil, "invalid_client_metadata", "unsupported grant type " + g
		}
	}
	if !slices.Contains(grants, "authorization_code") {
		return nil, "invalid_client_metadata", "grant_types must include authorization_code"
	}
	for _, rt := range req.ResponseTypes {
		if rt != "code" {
			return nil, "invalid_client_metadata", "only response type code is supported"
		}
	}
	c := &client{Client: Client{
		ID:              newSecret("dcr-"),
		Name:            req.ClientName,
		RedirectURIs:    slices.Clone(req.RedirectURIs),
		AuthMethod:      method,
		GrantTypes:      slices.Clone(grants),
		ApplicationType: req.ApplicationType,
		Dynamic:         true,
	}, rat: newSecret("rat-")}
	if method != AuthNone {
		s.issueSecret(c)
	}
	return c, "", ""
}

// issueSecret gives c a new client secret, expiring after ClientSecretTTL.
func (s *Server) issueSecret(c *client) {
	c.Secret = newSecret("cs-")
	if s.opts.ClientSecretTTL > 0 {
		c.secretExpires = s.now().Add(s.opts.ClientSecretTTL)
	}
}

// checkRedirectURI accepts https, http loopback (and other http when
// AllowHTTPRedirectURIs), and custom schemes for native clients.
func (s *Server) checkRedirectURI(raw string, native bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("redirect URI must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("redirect URI must not contain a fragment")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("redirect URI has no host")
		}
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) || s.opts.AllowHTTPRedirectURIs {
			return nil
		}
		return errors.New("http redirect URIs must use a loopback host")
	case "javascript", "data", "file", "vbscript":
		return errors.New("redirect URI scheme not allowed")
	}
	if native {
		return nil
	}
	return errors.New("custom URI schemes are only allowed for native clients")
}

// isLoopbackHost is the fake authorization server's own RFC 8252 rule and
// deliberately not oauth.IsLoopbackHost: the fake plays the remote side, so
// sharing the operator's check would hide any disagreement between them.
func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) registrationResponse(c *client) map[string]any {
	resp := map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        s.now().Unix(),
		"redirect_uris":              c.RedirectURIs,
		"token_endpoint_auth_method": c.AuthMethod,
		"grant_types":                c.GrantTypes,
		"response_types":             []string{"code"},
		"registration_access_token":  c.rat,
		"registration_client_uri":    s.issuer + "/register/" + url.PathEscape(c.ID),
	}
	if c.Secret != "" {
		resp["client_secret"] = c.Secret
		resp["client_secret_expires_at"] = 0
		if !c.secretExpires.IsZero() {
			resp["client_secret_expires_at"] = c.secretExpires.Unix()
		}
	}
	if c.Name != "" {
		resp["client_name"] = c.Name
	}
	if c.ApplicationType != "" {
		resp["application_type"] = c.ApplicationType
	}
	return resp
}

// handleRegistration serves RFC 7592 GET, PUT and DELETE at the client URI.
func (s *Server) handleRegistration(w http.ResponseWriter, r *http.Request) {
	id, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, s.opts.IssuerPath+"/register/"))
	if r.Method != http.MethodGet && r.Method != http.MethodPut && r.Method != http.MethodDelete {
		methodNotAllowed(w, "GET, PUT, DELETE")
		return
	}
	rat, _ := bearerToken(r)
	s.mu.Lock()
	c, ok := s.clients[id]
	if !ok || !c.Dynamic || rat == "" || subtle.ConstantTimeCompare([]byte(rat), []byte(c.rat)) != 1 {
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "unknown client or registration access token")
		return
	}
	switch r.Method {
	case http.MethodDelete:
		s.deleteClientLocked(id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPut:
		s.mu.Unlock()
		s.updateRegistration(w, r, c)
		return
	}
	resp := s.registrationResponse(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// updateRegistration is an RFC 7592 §2.2 update: the request carries the
// client's full metadata and its client_id. The client keeps its ID and its
// grants; a client whose secret expires (ClientSecretTTL) gets a new one.
func (s *Server) updateRegistration(w http.ResponseWriter, r *http.Request, old *client) {
	var req struct {
		registrationRequest
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "body is not a JSON object")
		return
	}
	if req.ClientID != old.ID {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "client_id does not match the client URI")
		return
	}
	if req.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(old.Secret)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "client_secret does not match")
		return
	}
	c, code, desc := s.validateRegistration(req.registrationRequest)
	if code != "" {
		oauthError(w, http.StatusBadRequest, code, desc)
		return
	}
	c.ID, c.rat = old.ID, old.rat
	if c.AuthMethod == old.AuthMethod && s.opts.ClientSecretTTL == 0 {
		c.Secret, c.secretExpires = old.Secret, old.secretExpires
	}
	s.mu.Lock()
	if _, ok := s.clients[old.ID]; ok {
		s.clients[old.ID] = c
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.registrationResponse(c))
}

// deleteClientLocked forgets a client and revokes all its grants (RFC 7592 §2.3).
func (s *Server) deleteClientLocked(id string) {
	delete(s.clients, id)
	for _, g := range s.grants {
		if g.clientID == id {
			g.revoked = true
		}
	}
}

// RevokeClient deletes a client on the server side (as AWS does with DCR
// clients): its grants die and it then gets invalid_client. It reports
// whether the client existed.
func (s *Server) RevokeClient(clientID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.clients[clientID]
	s.deleteClientLocked(clientID)
	return ok
}

// AddClient pre-registers a static client (for servers without DCR). Empty
// fields get defaults: a generated ID, AuthBasic with a generated secret,
// grant types authorization_code and refresh_token.
func (s *Server) AddClient(c Client) Client {
	if c.ID == "" {
		c.ID = newSecret("static-")
	}
	if c.AuthMethod == "" {
		c.AuthMethod = AuthBasic
	}
	if c.AuthMethod != AuthNone && c.Secret == "" {
		c.Secret = newSecret("cs-")
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	cl := &client{Client: c}
	s.mu.Lock()
	s.clients[c.ID] = cl
	s.mu.Unlock()
	return cl.copyOut()
}

// Client returns the client with this ID.
func (s *Server) Client(clientID string) (Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return Client{}, false
	}
	return c.copyOut(), true
}

// Clients returns every known client, sorted by ID.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c.copyOut())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RegisteredClientCount is the number of live DCR registrations.
func (s *Server) RegisteredClientCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clients {
		if c.Dynamic {
			n++
		}
	}
	return n
}
