package mcpauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerifyTicket: VerifyTicket on arbitrary strings, as the callback
// server receives them from browsers.
//
// Properties: a ticket is accepted only when an independent check agrees:
// three segments, header alg HS256, an HMAC-SHA256 signature under the key,
// aud naming TicketAudience, a subject, iat and exp with exp - iat at most
// MaxTicketTTL and exp not past; the returned user and server are its sub
// and srv claims. A refusal is exactly one of ErrTicketInvalid,
// ErrTicketExpired, ErrTicketTooLong, with a zero Ticket and a message
// that does not quote the input.
func FuzzVerifyTicket(f *testing.F) {
	now := time.Now()
	valid := func(t Ticket) string {
		raw, err := MintTicket(testKey, t)
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	sign := func(method jwt.SigningMethod, key any, claims jwt.Claims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	claims := func(sub string, aud []string, iat, exp time.Time) ticketClaims {
		return ticketClaims{Server: "chat/github", RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Audience: aud,
			IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}}
	}
	aud := []string{TicketAudience}
	for _, s := range []string{
		valid(Ticket{User: "alice@example.com", Server: "chat/github"}),
		valid(Ticket{User: "U024BE7LH", AnyServer: true, TTL: MaxTicketTTL}),
		" \n" + valid(Ticket{User: "bob", Server: "team-a/linear", TTL: time.Second}) + "\t",
		sign(jwt.SigningMethodHS512, testKey, claims("alice", aud, now, now.Add(time.Minute))),
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("alice", aud, now, now.Add(time.Minute))),
		sign(jwt.SigningMethodHS256, testKey, claims("alice", []string{"someone-else"}, now, now.Add(time.Minute))),
		sign(jwt.SigningMethodHS256, testKey, claims("alice", aud, now.Add(-time.Hour), now.Add(-time.Minute))),
		sign(jwt.SigningMethodHS256, testKey, claims("alice", aud, now, now.Add(MaxTicketTTL+time.Minute))),
		sign(jwt.SigningMethodHS256, testKey, claims("", aud, now, now.Add(time.Minute))),
		sign(jwt.SigningMethodHS256, []byte("another-key-0123456789abcdef0123"), claims("alice", aud, now, now.Add(time.Minute))),
		"eyJhbGciOiJIUzI1NiJ9.e30.",
		"a.b.c.d",
		"",
	} {
		f.Add(s)
	}
	errMsgs := ErrTicketInvalid.Error() + ErrTicketExpired.Error() + ErrTicketTooLong.Error()
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := VerifyTicket(testKey, raw)
		if err != nil {
			if got != (Ticket{}) {
				t.Fatalf("refused (%v) but returned %+v", err, got)
			}
			if !errors.Is(err, ErrTicketInvalid) && !errors.Is(err, ErrTicketExpired) && !errors.Is(err, ErrTicketTooLong) {
				t.Fatalf("error %v is none of the documented ones", err)
			}
			if len(raw) >= 8 && !strings.Contains(errMsgs, raw) && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q quotes the ticket", err)
			}
			return
		}
		checkAcceptedTicket(t, testKey, raw, got)
	})
}

// checkAcceptedTicket verifies an accepted ticket without the jwt library.
func checkAcceptedTicket(t *testing.T, key []byte, raw string, got Ticket) {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		t.Fatalf("accepted %q with %d segments", raw, len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil || header.Alg != "HS256" {
		t.Fatalf("accepted %q with header %q", raw, hb)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatalf("accepted %q without a valid HS256 signature", raw)
	}
	var claims struct {
		Sub string          `json:"sub"`
		Srv string          `json:"srv"`
		Jti string          `json:"jti"`
		Aud json.RawMessage `json:"aud"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &claims) != nil {
		t.Fatalf("accepted %q with payload %q", raw, pb)
	}
	var audOne string
	var audMany []string
	if json.Unmarshal(claims.Aud, &audOne) != nil || audOne != TicketAudience {
		if json.Unmarshal(claims.Aud, &audMany) != nil || !containsString(audMany, TicketAudience) {
			t.Fatalf("accepted %q with aud %s", raw, claims.Aud)
		}
	}
	if claims.Sub == "" || got.User != claims.Sub || got.Server != claims.Srv || got.AnyServer != (claims.Srv == "") || got.ID != claims.Jti {
		t.Fatalf("accepted %q as %+v; sub %q, srv %q, jti %q", raw, got, claims.Sub, claims.Srv, claims.Jti)
	}
	if claims.Iat == nil || claims.Exp == nil {
		t.Fatalf("accepted %q without iat or exp", raw)
	}
	if got.TTL > MaxTicketTTL || *claims.Exp-*claims.Iat > MaxTicketTTL.Seconds()+1 {
		t.Fatalf("accepted %q living %v (iat %v, exp %v)", raw, got.TTL, *claims.Iat, *claims.Exp)
	}
	if exp := time.Unix(int64(*claims.Exp), 0); time.Now().After(exp.Add(TicketLeeway+time.Second)) || got.Expiry.Sub(exp).Abs() >= time.Second {
		t.Fatalf("accepted %q, expired at %v", raw, exp)
	}
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// FuzzTicketRoundTrip: MintTicket then VerifyTicket.
//
// Properties: MintTicket refuses exactly an empty key, an empty user, a
// TTL outside [0, MaxTicketTTL] and a ticket both bound and not bound to a
// server (or neither); a minted ticket verifies (surrounded by white space
// too) to its user and server, an ID, and a TTL within a second of the
// requested one (DefaultTicketTTL for 0), and is refused under another key,
// with its subject changed, or re-signed with HS512 or alg none.
func FuzzTicketRoundTrip(f *testing.F) {
	f.Add(testKey, "alice@example.com", "chat/github", false, int64(0))
	f.Add(testKey, "U024BE7LH", "", true, int64(MaxTicketTTL))
	f.Add([]byte("k"), "bob", "team-a/linear", false, int64(time.Second))
	f.Add([]byte{}, "bob", "", true, int64(time.Minute))
	f.Add(testKey, "", "chat/github", false, int64(time.Minute))
	f.Add(testKey, "carol\xff\u2028", "ns/\"name\"", false, int64(MaxTicketTTL+1))
	f.Add(testKey, "dave", "", true, int64(-1))
	f.Add(testKey, "erin", "", false, int64(time.Minute))
	f.Add(testKey, "frank", "chat/github", true, int64(time.Minute))
	f.Fuzz(func(t *testing.T, key []byte, user, server string, anyServer bool, ttlRaw int64) {
		ttl := time.Duration(ttlRaw % int64(12*time.Minute)) // around the valid range
		raw, err := MintTicket(key, Ticket{User: user, Server: server, AnyServer: anyServer, TTL: ttl})
		wantErr := len(key) == 0 || user == "" || ttl < 0 || ttl > MaxTicketTTL || (server == "") != anyServer
		if (err != nil) != wantErr {
			t.Fatalf("MintTicket(key of %d bytes, %q, ttl %v): %v", len(key), user, ttl, err)
		}
		if err != nil {
			return
		}
		got, err := VerifyTicket(key, " "+raw+"\n")
		if err != nil {
			t.Fatalf("VerifyTicket(MintTicket(...)): %v", err)
		}
		// JSON carries invalid UTF-8 as U+FFFD.
		if utf8.ValidString(user) && got.User != user || utf8.ValidString(server) && got.Server != server || got.AnyServer != anyServer || got.ID == "" {
			t.Fatalf("got %+v, want user %q, server %q, an ID", got, user, server)
		}
		want := ttl
		if want == 0 {
			want = DefaultTicketTTL
		}
		if d := got.TTL - want; d <= -time.Second || d >= time.Second || got.TTL > MaxTicketTTL {
			t.Fatalf("TTL %v, want about %v", got.TTL, want)
		}

		otherKey := append([]byte{}, key...)
		otherKey[0] ^= 1
		if _, err := VerifyTicket(otherKey, raw); !errors.Is(err, ErrTicketInvalid) {
			t.Fatalf("a ticket verified under another key: %v", err)
		}
		parts := strings.Split(raw, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		claims["sub"] = got.User + "x"
		forged, _ := json.Marshal(claims)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
		if _, err := VerifyTicket(key, tampered); !errors.Is(err, ErrTicketInvalid) {
			t.Fatalf("a ticket with its subject changed verified: %v", err)
		}
		var tc ticketClaims
		if _, _, err := jwt.NewParser().ParseUnverified(raw, &tc); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			method jwt.SigningMethod
			key    any
		}{{jwt.SigningMethodHS512, key}, {jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType}} {
			resigned, err := jwt.NewWithClaims(m.method, tc).SignedString(m.key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := VerifyTicket(key, resigned); !errors.Is(err, ErrTicketInvalid) {
				t.Fatalf("a ticket re-signed with %s verified: %v", m.method.Alg(), err)
			}
		}
	})
}
