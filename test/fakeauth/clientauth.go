package fakeauth

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
)

// oauthErr is an RFC 6749 §5.2 error to be written by the caller.
type oauthErr struct {
	status int
	code   string
	desc   string
	basic  bool // the client tried HTTP Basic: add a Basic challenge
}

func (e *oauthErr) write(w http.ResponseWriter) {
	if e.basic && e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeauth"`)
	}
	w.Header().Set("Pragma", "no-cache")
	oauthError(w, e.status, e.code, e.desc)
}

func badRequest(code, desc string) *oauthErr {
	return &oauthErr{status: http.StatusBadRequest, code: code, desc: desc}
}

// parseTokenForm parses a form-encoded POST body (parameters in the query
// string are not read) and rejects repeated parameters other than resource.
func parseTokenForm(r *http.Request) *oauthErr {
	if r.Method != http.MethodPost {
		return &oauthErr{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "POST required"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return badRequest("invalid_request", "content type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("invalid_request", "malformed form body")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 && k != "resource" {
			return badRequest("invalid_request", "parameter "+k+" repeated")
		}
	}
	return nil
}

// authenticateClient checks client authentication against the method the
// client registered (RFC 6749 §2.3): client_secret_basic, client_secret_post
// or none (client_id only).
func (s *Server) authenticateClient(r *http.Request) (*client, *oauthErr) {
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	method := AuthNone
	switch {
	case basic:
		method = AuthBasic
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &oauthErr{status: http.StatusUnauthorized, code: "invalid_client", desc: "malformed basic credentials", basic: true}
		}
		if form.Has("client_secret") {
			return nil, badRequest("invalid_request", "more than one client authentication method used")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, badRequest("invalid_request", "client_id does not match the authenticated client")
		}
	case form.Has("client_secret"):
		method = AuthPost
		id, secret = form.Get("client_id"), form.Get("client_secret")
	default:
		id = form.Get("client_id")
	}
	fail := &oauthErr{status: http.StatusUnauthorized, code: "invalid_client", basic: basic}
	if id == "" {
		fail.desc = "client authentication required"
		return nil, fail
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	switch {
	case !ok:
		fail.desc = "unknown client"
	case c.AuthMethod != method:
		fail.desc = "client must authenticate with " + c.AuthMethod
	case method != AuthNone && subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1:
		fail.desc = "client authentication failed"
	case method != AuthNone && !c.secretExpires.IsZero() && !s.now().Before(c.secretExpires):
		fail.desc = "client secret expired"
	default:
		return c, nil
	}
	return nil, fail
}
