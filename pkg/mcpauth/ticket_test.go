package mcpauth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMintAndVerifyTicket(t *testing.T) {
	raw, err := MintTicket(testKey, Ticket{User: "alice@example.com", Server: "chat/github"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyTicket(testKey, raw)
	if err != nil {
		t.Fatalf("VerifyTicket: %v", err)
	}
	if got.User != "alice@example.com" || got.Server != "chat/github" || got.AnyServer || got.TTL != DefaultTicketTTL {
		t.Errorf("VerifyTicket = %+v", got)
	}
	if d := time.Until(got.Expiry) - DefaultTicketTTL; d > time.Second || d < -2*time.Second {
		t.Errorf("Expiry %v, want about %v from now", got.Expiry, DefaultTicketTTL)
	}
	// Each ticket has its own ID: the callback server accepts a connect
	// link's ticket once, by ID.
	again, err := MintTicket(testKey, Ticket{User: "alice@example.com", Server: "chat/github"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := VerifyTicket(testKey, again)
	if len(got.ID) < 22 || other.ID == got.ID {
		t.Errorf("ticket IDs %q and %q: want distinct random IDs of at least 128 bits", got.ID, other.ID)
	}
	// Unbound only when asked for.
	unbound, err := MintTicket(testKey, Ticket{User: "alice@example.com", AnyServer: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := VerifyTicket(testKey, unbound); err != nil || !got.AnyServer || got.Server != "" {
		t.Errorf("VerifyTicket(AnyServer ticket) = %+v, %v", got, err)
	}
}

func TestMintTicketRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		key []byte
		t   Ticket
	}{
		"no key":               {nil, Ticket{User: "a", Server: "chat/github"}},
		"no user":              {testKey, Ticket{Server: "chat/github"}},
		"ttl too long":         {testKey, Ticket{User: "a", Server: "chat/github", TTL: 11 * time.Minute}},
		"negative ttl":         {testKey, Ticket{User: "a", Server: "chat/github", TTL: -time.Minute}},
		"unbound by default":   {testKey, Ticket{User: "a"}},
		"bound and any server": {testKey, Ticket{User: "a", Server: "chat/github", AnyServer: true}},
	} {
		if _, err := MintTicket(tc.key, tc.t); err == nil {
			t.Errorf("%s: MintTicket succeeded", name)
		}
	}
}

func TestMintTicketCapsTheUserID(t *testing.T) {
	longest := strings.Repeat("u", MaxUserIDBytes)
	raw, err := MintTicket(testKey, Ticket{User: longest, AnyServer: true})
	if err != nil {
		t.Fatalf("a user ID of MaxUserIDBytes: %v", err)
	}
	if got, err := VerifyTicket(testKey, raw); err != nil || got.User != longest {
		t.Errorf("VerifyTicket: user of %d bytes, %v", len(got.User), err)
	}
	_, err = MintTicket(testKey, Ticket{User: longest + "u", AnyServer: true})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d bytes long; at most %d", MaxUserIDBytes+1, MaxUserIDBytes)) {
		t.Errorf("a user ID one byte over MaxUserIDBytes: %v", err)
	}
}

func TestVerifyTicketRejects(t *testing.T) {
	now := time.Now()
	claims := func(mut func(c *ticketClaims)) *ticketClaims {
		c := &ticketClaims{RegisteredClaims: jwt.RegisteredClaims{
			Subject: "alice", Audience: jwt.ClaimStrings{TicketAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		}}
		mut(c)
		return c
	}
	cases := map[string]struct {
		raw  string
		want error
	}{
		"wrong key": {signed(t, jwt.SigningMethodHS256, []byte("another key of enough length!!!!"), claims(func(*ticketClaims) {})), ErrTicketInvalid},
		"expired": {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now.Add(-9*time.Minute)), jwt.NewNumericDate(now.Add(-2*time.Minute))
		})), ErrTicketExpired},
		"wrong audience": {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) {
			c.Audience = jwt.ClaimStrings{"someone-else"}
		})), ErrTicketInvalid},
		"no exp":   {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) { c.ExpiresAt = nil })), ErrTicketInvalid},
		"no iat":   {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) { c.IssuedAt = nil })), ErrTicketInvalid},
		"no sub":   {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) { c.Subject = "" })), ErrTicketInvalid},
		"too long": {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(11 * time.Minute)) })), ErrTicketTooLong},
		"iat in the future": {signed(t, jwt.SigningMethodHS256, testKey, claims(func(c *ticketClaims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now.Add(5*time.Minute)), jwt.NewNumericDate(now.Add(6*time.Minute))
		})), ErrTicketInvalid},
		"alg none": {signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(func(*ticketClaims) {})), ErrTicketInvalid},
		"HS512":    {signed(t, jwt.SigningMethodHS512, testKey, claims(func(*ticketClaims) {})), ErrTicketInvalid},
		"garbage":  {"not.a.jwt", ErrTicketInvalid},
		"empty":    {"", ErrTicketInvalid},
	}
	for name, tc := range cases {
		if _, err := VerifyTicket(testKey, tc.raw); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyTicket error = %v, want %v", name, err, tc.want)
		}
	}
}
