package fakeauth

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

const codeTTL = time.Minute

// s256Challenge is a base64url SHA-256 digest without padding (RFC 7636 §4.2).
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

type authCode struct {
	clientID      string
	redirectURI   string
	redirectGiven bool
	challenge     string
	scope         string
	resource      string
	subject       string
	expires       time.Time
	used          bool
	grantID       string // set when redeemed
}

// handleAuthorize auto-approves valid authorization requests (RFC 6749 §4.1,
// RFC 7636, RFC 8707, RFC 9207).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	q := r.Form
	s.fmu.Lock()
	s.lastAuthorize = cloneValues(q)
	s.fmu.Unlock()
	for k, v := range q {
		if len(v) > 1 && k != "resource" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" repeated")
			return
		}
	}
	// Errors about the client or redirect URI must not redirect (RFC 6749 §4.1.2.1).
	redirectURI, desc := s.authorizeClient(q.Get("client_id"), q.Get("redirect_uri"))
	if desc != "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", desc)
		return
	}
	fail := func(code, desc string) { s.redirectError(w, r, redirectURI, q.Get("state"), code, desc) }
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	challenge := q.Get("code_challenge")
	if challenge == "" {
		fail("invalid_request", "code_challenge is required (PKCE)")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	if !s256Challenge.MatchString(challenge) {
		fail("invalid_request", "code_challenge is not a base64url SHA-256 digest")
		return
	}
	if a := s.opts.RequireAudience; a != "" && q.Get("audience") != a {
		fail("invalid_request", "audience is required: this API's identifier")
		return
	}
	resource, code, desc := s.checkResource(q["resource"])
	if code != "" {
		fail(code, desc)
		return
	}
	scope, ok := s.checkScope(q.Get("scope"))
	if !ok {
		fail("invalid_scope", "unknown scope requested")
		return
	}
	subject := s.opts.Subject
	if hint := q.Get("login_hint"); hint != "" {
		subject = hint
	}
	c := newSecret("code-")
	s.mu.Lock()
	s.codes[c] = &authCode{
		clientID: q.Get("client_id"), redirectURI: redirectURI, redirectGiven: q.Get("redirect_uri") != "",
		challenge: challenge, scope: scope, resource: resource, subject: subject,
		expires: s.now().Add(codeTTL),
	}
	s.mu.Unlock()
	s.redirect(w, r, redirectURI, url.Values{"code": {c}}, q.Get("state"))
}

// authorizeClient validates client_id and redirect_uri and returns the
// redirect URI to use, or a description of why the request is refused.
func (s *Server) authorizeClient(clientID, redirectURI string) (string, string) {
	if clientID == "" {
		return "", "client_id is required"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok && s.opts.CIMD && isCIMDClientID(clientID) {
		// A real server fetches the document; the fake records the client.
		c = &client{Client: Client{
			ID: clientID, AuthMethod: AuthNone, CIMD: true,
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}}
		s.clients[clientID] = c
		ok = true
	}
	if !ok {
		return "", "unknown client_id"
	}
	if c.CIMD {
		if redirectURI == "" {
			return "", "redirect_uri is required"
		}
		if err := s.checkRedirectURI(redirectURI, false); err != nil {
			return "", err.Error()
		}
		c.RedirectURIs = appendNew(c.RedirectURIs, redirectURI)
		return redirectURI, ""
	}
	if redirectURI == "" {
		if len(c.RedirectURIs) == 1 {
			return c.RedirectURIs[0], ""
		}
		return "", "redirect_uri is required"
	}
	if !slices.Contains(c.RedirectURIs, redirectURI) {
		return "", "redirect_uri does not match a registered redirect URI"
	}
	return redirectURI, ""
}

// isCIMDClientID reports whether id is an https URL with a path.
func isCIMDClientID(id string) bool {
	u, err := url.Parse(id)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Path != "" && u.Path != "/" && u.Fragment == ""
}

// checkResource validates RFC 8707 resource values and returns the resource
// the grant is bound to.
func (s *Server) checkResource(values []string) (resource, code, desc string) {
	switch {
	case len(values) > 0 && s.opts.RejectResourceOnAuthorize:
		return "", "invalid_target", "AADSTS9010010: the resource parameter is not supported here when the scope names a resource"
	case len(values) == 0 && (s.opts.ResourceOptional || s.opts.RejectResourceOnAuthorize):
		return s.MCPURL(), "", ""
	case len(values) == 0:
		return "", "invalid_target", "resource parameter is required (RFC 8707)"
	case len(values) > 1:
		return "", "invalid_target", "only one resource is supported"
	case !s.namesMCPServer(values[0]):
		return "", "invalid_target", "unknown resource"
	}
	return values[0], "", ""
}

// namesMCPServer reports whether resource is the MCP server's: its URL or
// one of Options.ResourceAliases.
func (s *Server) namesMCPServer(resource string) bool {
	return resource == s.MCPURL() || slices.Contains(s.opts.ResourceAliases, resource)
}

// checkScope validates a requested scope string; empty means the defaults.
func (s *Server) checkScope(requested string) (string, bool) {
	fields := strings.Fields(requested)
	if len(fields) == 0 {
		return strings.Join(s.opts.Scopes, " "), true
	}
	allowed := s.asScopes()
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return "", false
		}
	}
	return strings.Join(fields, " "), true
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	s.redirect(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, state)
}

// redirect sends the authorization response, adding state and iss.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, _ := url.Parse(redirectURI) // validated at registration
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	f := s.currentFault()
	switch {
	case f.WrongISS:
		q.Set("iss", wrongIssuerURL+s.opts.IssuerPath)
	case s.opts.ISSParameter && !f.OmitISS:
		q.Set("iss", s.issuer)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// LastAuthorizeRequest is the query (and form) of the last request to the
// authorization endpoint, valid or not; nil before the first.
func (s *Server) LastAuthorizeRequest() url.Values {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return cloneValues(s.lastAuthorize)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
