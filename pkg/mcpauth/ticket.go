package mcpauth

import (
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

// DefaultTicketTTL is used when Ticket.TTL is zero.
const DefaultTicketTTL = 5 * time.Minute

// ticketLeeway tolerates small clock differences between the chat backend
// and the callback server.
const ticketLeeway = 30 * time.Second

// Ticket says who the user is to the callback server. A chat backend mints
// one per request with the key shared through a Secret (the same bytes as the
// callback server's --ticket-key-file).
type Ticket struct {
	// User is the chat app's user ID (the sub claim).
	User string
	// Server, when set, binds the ticket to one MCPServer as
	// "namespace/name" (the srv claim).
	Server string
	// TTL is how long the ticket is valid; default 5 minutes, at most 10.
	TTL time.Duration
}

type ticketClaims struct {
	Server string `json:"srv,omitempty"`
	jwt.RegisteredClaims
}

// MintTicket returns an HS256 JWT with sub, aud = TicketAudience, iat, exp
// and the optional srv claim, signed with key. The user ID is at most
// MaxUserIDBytes long.
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
// (exp at most MaxTicketTTL after iat) and returns its user and server
// binding. The callback server is its only production caller.
func VerifyTicket(key []byte, raw string) (Ticket, error) {
	var claims ticketClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(raw), &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(TicketAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(ticketLeeway),
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
	return Ticket{User: claims.Subject, Server: claims.Server, TTL: ttl}, nil
}
