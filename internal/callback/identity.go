package callback

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// ticketSource says where a route accepts a ticket from.
type ticketSource int

const (
	// ticketInQueryOrBearer: connect, a browser navigation, takes ?ticket=.
	ticketInQueryOrBearer ticketSource = iota
	// ticketBearerOnly: JSON routes take Authorization: Bearer only, so
	// tickets stay out of access logs.
	ticketBearerOnly
)

// unauthorized is an authentication failure, answered as JSON on every route.
func unauthorized(status int, msg string) *failure {
	return &failure{status: status, msg: msg, result: resultUnauthorized, json: true}
}

// userOf returns the signed-in user. A ticket, when sent and ticket mode is
// on, must be valid (no fall-back to the header). server ("namespace/name",
// or "" for routes about no one server) must match a ticket's srv binding.
func (s *Server) userOf(r *http.Request, src ticketSource, server string) (string, error) {
	if raw, ok := ticketOf(r, src); ok && len(s.opts.TicketKey) > 0 {
		t, err := mcpauth.VerifyTicket(s.opts.TicketKey, raw)
		if err != nil {
			return "", unauthorized(http.StatusUnauthorized, err.Error())
		}
		if t.Server != "" && t.Server != server {
			return "", unauthorized(http.StatusForbidden, "the ticket is bound to another server")
		}
		return checkUserID(t.User)
	}
	if s.opts.UserHeader != "" {
		if u := strings.TrimSpace(r.Header.Get(s.opts.UserHeader)); u != "" {
			return checkUserID(u)
		}
	}
	return "", unauthorized(http.StatusUnauthorized, "no signed-in user: send a connect ticket or come through the authenticating proxy")
}

// checkUserID refuses a user ID that could never connect: longer than
// mcpauth.MaxUserIDBytes, it would not fit in the flow cookie. Every route
// applies it, so such a user gets the same answer everywhere.
func checkUserID(u string) (string, error) {
	if len(u) > mcpauth.MaxUserIDBytes {
		return "", unauthorized(http.StatusUnauthorized, fmt.Sprintf(
			"the user ID is %d bytes long; at most %d bytes fit in the sign-in cookie", len(u), mcpauth.MaxUserIDBytes))
	}
	return u, nil
}

func ticketOf(r *http.Request, src ticketSource) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			return tok, true
		}
	}
	if src == ticketInQueryOrBearer {
		if t := r.URL.Query().Get("ticket"); t != "" {
			return t, true
		}
	}
	return "", false
}
