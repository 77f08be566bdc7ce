package mcpauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TicketAudience is the aud claim of every connect ticket.
const TicketAudience = "mcp-operator-callback"

// MaxTicketTTL is the longest a ticket may live (exp - iat).
const MaxTicketTTL = 10 * time.Minute

// DefaultTicketTTL is used when Ticket.TTL is zero: long enough to open a
// connect link minted when the user clicked, short enough that a link found
// later (in a proxy log, a chat message) has expired.
const DefaultTicketTTL = 2 * time.Minute

// TicketLeeway tolerates small clock differences between the chat backend
// and the callback server: a ticket is accepted until its exp plus this.
const TicketLeeway = 30 * time.Second

// Ticket says who the user is to the callback server. A chat backend mints
// one per request with the key shared through a Secret (the same bytes as the
// callback server's --ticket-key-file).
//
// A ticket in a connect link (ConnectURL with ?ticket=) is accepted once:
// the callback server remembers its ID until it expires. A ticket sent as
// Authorization: Bearer to the JSON routes may be used again until it
// expires: it never appears in a URL, so no log or browser history keeps it.
type Ticket struct {
	// User is the chat app's user ID (the sub claim).
	User string
	// Server binds the ticket to one MCPServer as "namespace/name" (the srv
	// claim). MintTicket requires it unless AnyServer is set; the callback
	// server requires it in a connect link.
	Server string
	// AnyServer mints a ticket bound to no server, as GET /connections, a
	// route about every server, needs. VerifyTicket sets it for a ticket
	// without a srv claim.
	AnyServer bool
	// TTL is how long the ticket is valid; default 2 minutes, at most 10.
	TTL time.Duration
	// ID is the ticket's unique ID (the jti claim): MintTicket draws it at
	// random, VerifyTicket returns it ("" for a ticket without one).
	ID string
	// Expiry is when the ticket expires (the exp claim); set by VerifyTicket.
	Expiry time.Time
}

type ticketClaims struct {
	Server string `json:"srv,omitempty"`
	jwt.RegisteredClaims
}

// MintTicket returns an HS256 JWT with sub, aud = TicketAudience, iat, exp,
// a random jti and the srv claim, signed with key. The user ID is at most
// MaxUserIDBytes long; the ticket is bound to t.Server unless t.AnyServer.
func MintTicket(key []byte, t Ticket) (string, error) {
	if len(key) == 0 {
		return "", errors.New("mcpauth: empty ticket key")
	}
	if t.User == "" {
		return "", errors.New("mcpauth: ticket needs a user")
	}
	if len(t.User) > MaxUserIDBytes {
		return "", fmt.Errorf("mcpauth: the user ID is %d bytes long; at most %d (MaxUserIDBytes) fit in the callback server's sign-in cookie", len(t.User), MaxUserIDBytes)
	}
	if (t.Server == "") == !t.AnyServer {
		return "", errors.New("mcpauth: a ticket is bound to one server (Server, as namespace/name) or, for GET /connections, to none (AnyServer): set exactly one")
	}
	ttl := t.TTL
	if ttl == 0 {
		ttl = DefaultTicketTTL
	}
	if ttl < 0 || ttl > MaxTicketTTL {
		return "", fmt.Errorf("mcpauth: ticket TTL %s is outside (0, %s]", ttl, MaxTicketTTL)
	}
	now := time.Now()
	claims := ticketClaims{
		Server: t.Server,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   t.User,
			Audience:  jwt.ClaimStrings{TicketAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}

// Ticket verification errors. Messages never quote the ticket.
var (
	ErrTicketInvalid = errors.New("the ticket is not a valid signed ticket")
	ErrTicketExpired = errors.New("the ticket has expired")
	ErrTicketTooLong = errors.New("the ticket lives longer than 10 minutes")
)

// VerifyTicket checks a ticket's HS256 signature, audience, iat and exp
// (exp at most MaxTicketTTL after iat) and returns its user, server
// binding, ID and expiry. Whether a ticket was used before is for the
// caller to remember. The callback server is its only production caller.
func VerifyTicket(key []byte, raw string) (Ticket, error) {
	var claims ticketClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(raw), &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(TicketAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(TicketLeeway),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Ticket{}, ErrTicketExpired
	case err != nil:
		return Ticket{}, ErrTicketInvalid
	case claims.Subject == "" || claims.IssuedAt == nil:
		return Ticket{}, ErrTicketInvalid
	}
	ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time)
	if ttl > MaxTicketTTL {
		return Ticket{}, ErrTicketTooLong
	}
	return Ticket{User: claims.Subject, Server: claims.Server, AnyServer: claims.Server == "", TTL: ttl,
		ID: claims.ID, Expiry: claims.ExpiresAt.Time}, nil
}
