package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// ticketSource says where a route accepts a ticket from.
type ticketSource int

const (
	// ticketInQueryOrBearer: GET connect, a browser navigation, takes
	// ?ticket= (single use) or a bearer ticket.
	ticketInQueryOrBearer ticketSource = iota
	// ticketBearerOnly: JSON routes take Authorization: Bearer only, so
	// tickets stay out of access logs; such a ticket may be used again
	// until it expires.
	ticketBearerOnly
	// ticketBearerNoHeader: the token listener takes a bearer ticket and
	// never the trusted header. Every container of the pod reaches its
	// loopback port directly, with no proxy to vouch for a header; only a
	// ticket, signed with the key the chat backend holds, names the user.
	ticketBearerNoHeader
)

// unauthorized is an authentication failure, answered as JSON on every route.
func unauthorized(status int, msg string) *failure {
	return &failure{status: status, msg: msg, result: resultUnauthorized, json: true}
}

// identity is the signed-in user, and whether the trusted header said so.
type identity struct {
	user     string
	byHeader bool
}

// verifyTicket accepts a ticket signed with any ticket key: a rotation
// overlaps the new key and the old one. A key that verified the signature
// decides the error (expired, too long); otherwise the ticket is invalid.
func (s *Server) verifyTicket(raw string) (mcpauth.Ticket, error) {
	err := mcpauth.ErrTicketInvalid
	for _, key := range s.opts.TicketKeys {
		t, e := mcpauth.VerifyTicket(key, raw)
		if e == nil {
			return t, nil
		}
		if !errors.Is(e, mcpauth.ErrTicketInvalid) {
			err = e
		}
	}
	return mcpauth.Ticket{}, err
}

// identify returns the signed-in user of a request that starts something:
// connect, /connections, disconnect. server ("namespace/name", or "" for
// routes about no one server) must match a ticket's srv binding.
//
// The trusted header, when configured and sent, is the user: the proxy in
// front vouches for it, and nothing a link carries overrides it. A ticket
// sent along (ticket mode on) must be valid and name the same user, or the
// request is refused: someone else's connect link neither connects their
// account nor silently becomes a connect of yours. Without the header, a
// valid ticket is the user. A ticket in the URL is accepted once, across
// replicas, and must carry a jti and be bound to its server; once used
// there it is refused as a bearer too, so a link seen in a proxy log or
// shared in a chat is worthless. A bearer ticket (never in a URL) may be
// used again until it expires.
func (s *Server) identify(ctx context.Context, r *http.Request, src ticketSource, server string) (identity, error) {
	hdr, byHeader := s.headerUser(r)
	if src == ticketBearerNoHeader {
		hdr, byHeader = "", false
	}
	raw, inURL, sent := ticketOf(r, src)
	if (!sent || len(s.opts.TicketKeys) == 0) && src == ticketBearerNoHeader {
		return identity{}, unauthorized(http.StatusUnauthorized, "no ticket: send one minted with mcpauth.MintTicket as Authorization: Bearer")
	}
	if !sent || len(s.opts.TicketKeys) == 0 {
		if !byHeader {
			return identity{}, unauthorized(http.StatusUnauthorized, "no signed-in user: send a connect ticket or come through the authenticating proxy")
		}
		return identity{user: hdr, byHeader: true}, checkUserID(hdr)
	}
	t, err := s.verifyTicket(raw)
	switch {
	case err != nil:
		return identity{}, unauthorized(http.StatusUnauthorized, err.Error())
	case !t.AnyServer && t.Server != server:
		return identity{}, unauthorized(http.StatusForbidden, "the ticket is bound to another server")
	case byHeader && t.User != hdr:
		return identity{}, unauthorized(http.StatusForbidden,
			"this link was made for another chat account than the one you are signed in with; open the connect link from your own chat")
	case inURL && (t.ID == "" || t.AnyServer):
		return identity{}, unauthorized(http.StatusUnauthorized,
			"a ticket in a connect link needs an ID (jti) and a server binding (srv): mint it with mcpauth.MintTicket for this server")
	}
	id := identity{user: t.User, byHeader: byHeader}
	if err := checkUserID(id.user); err != nil {
		return identity{}, err
	}
	if t.ID == "" {
		return id, nil // a bearer ticket minted without a jti
	}
	var fresh bool
	if inURL {
		fresh, err = s.used.claim(ctx, usedTicket, t.ID, t.Expiry.Add(mcpauth.TicketLeeway))
	} else {
		// A bearer ticket may be used again, unless it was spent in a link:
		// one read from a proxy log is worth nothing anywhere.
		var spent bool
		spent, err = s.used.spent(ctx, usedTicket, t.ID)
		fresh = !spent
	}
	switch {
	case err != nil:
		return identity{}, usedOnceFailed(err)
	case !fresh:
		return identity{}, unauthorized(http.StatusUnauthorized, "this ticket was already used in a connect link; ask the chat app for a new one")
	}
	return id, nil
}

// sameUser refuses a request that continues flow f (the confirmation, the
// callback) from anyone but the user who started it: a trusted header it
// carries must name f's user, and a flow started through the header needs
// the header again. A flow started with a ticket is bound to the browser
// by its cookie alone: the ticket was single use.
func (s *Server) sameUser(r *http.Request, f flow) error {
	hdr, byHeader := s.headerUser(r)
	switch {
	case byHeader && hdr != f.User:
		return &failure{status: http.StatusForbidden, result: resultUnauthorized, log: "Refused: the sign-in belongs to another user",
			msg: "this sign-in was started by another chat account than the one you are signed in with; start connecting again from your own chat"}
	case !byHeader && f.ByHeader:
		return &failure{status: http.StatusForbidden, result: resultUnauthorized, log: "Refused: the trusted header is missing",
			msg: "you are not signed in to the chat app here; sign in and start connecting again"}
	}
	return nil
}

// headerUser is the trusted header's user, when header mode is on and the
// header was sent.
func (s *Server) headerUser(r *http.Request) (string, bool) {
	if s.opts.UserHeader == "" {
		return "", false
	}
	u := strings.TrimSpace(r.Header.Get(s.opts.UserHeader))
	return u, u != ""
}

// checkUserID refuses a user ID that could never connect: longer than
// mcpauth.MaxUserIDBytes, it would not fit in the flow cookie. Every route
// applies it, so such a user gets the same answer everywhere.
func checkUserID(u string) error {
	if len(u) > mcpauth.MaxUserIDBytes {
		return unauthorized(http.StatusUnauthorized, fmt.Sprintf(
			"the user ID is %d bytes long; at most %d bytes fit in the sign-in cookie", len(u), mcpauth.MaxUserIDBytes))
	}
	return nil
}

// ticketOf returns the request's ticket and whether it came in the URL.
func ticketOf(r *http.Request, src ticketSource) (raw string, inURL, ok bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			return tok, false, true
		}
	}
	if src == ticketInQueryOrBearer {
		if t := r.URL.Query().Get("ticket"); t != "" {
			return t, true, true
		}
	}
	return "", false, false
}
