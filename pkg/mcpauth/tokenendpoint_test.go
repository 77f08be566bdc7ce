package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var endpointKey = []byte("0123456789abcdef0123456789abcdef")

// fakeEndpoint answers like the callback server's token listener; reply
// gets the verified ticket and writes the answer.
func fakeEndpoint(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, tk Ticket)) TokenEndpoint {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		tk, err := VerifyTicket(endpointKey, raw)
		if scheme != "Bearer" || err != nil || r.URL.RawQuery != "" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"no ticket"}`)
			return
		}
		reply(w, r, tk)
	}))
	t.Cleanup(ts.Close)
	return TokenEndpoint{URL: ts.URL + "/", TicketKey: endpointKey}
}

func TestTokenEndpointToken(t *testing.T) {
	var got Ticket
	var path string
	ep := fakeEndpoint(t, func(w http.ResponseWriter, r *http.Request, tk Ticket) {
		got, path = tk, r.URL.Path
		fmt.Fprint(w, `{"access_token":"at","token_type":"DPoP","expires_at":"2030-01-02T03:04:05Z","resource":"https://mcp.example.com/mcp","scope":"a b"}`)
	})
	tok, err := ep.Token(context.Background(), "chat", "git hub", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if path != "/token/chat/git hub" {
		t.Errorf("path = %q", path)
	}
	if got.User != "alice" || got.Server != "chat/git hub" || got.AnyServer || got.TTL > TokenEndpointTicketTTL {
		t.Errorf("ticket = %+v: want alice, bound to chat/git hub, short-lived", got)
	}
	want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if tok.AuthorizationHeader() != "DPoP at" || !tok.Expiry.Equal(want) || tok.Resource != "https://mcp.example.com/mcp" || len(tok.Scopes) != 2 {
		t.Errorf("token = %+v", tok)
	}
}

func TestTokenEndpointServers(t *testing.T) {
	ep := fakeEndpoint(t, func(w http.ResponseWriter, r *http.Request, tk Ticket) {
		if !tk.AnyServer || r.URL.Path != ServersPath {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":"bound"}`)
			return
		}
		fmt.Fprintf(w, `{"user":%q,"servers":[{"namespace":"chat","name":"github","url":"https://mcp.example.com/mcp","authType":"OAuth2","ready":true,"connected":true}]}`, tk.User)
	})
	list, err := ep.Servers(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "github" || !list[0].Ready || !list[0].Connected || list[0].URL == "" {
		t.Errorf("servers = %+v", list)
	}
}

// TestTokenEndpointRefusals: each refusal maps to the error GetToken
// answers for the same state, and a broken answer is an error, never a
// token.
func TestTokenEndpointRefusals(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   error // nil: only an *EndpointError or a decoding error
	}{
		{http.StatusNotFound, `{"error":"x","code":"not_connected"}`, ErrNotConnected},
		{http.StatusNotFound, `{"error":"x","code":"unknown_server"}`, ErrUnknownServer},
		{http.StatusConflict, `{"error":"x","code":"reauthorization_required"}`, ErrReauthorizationRequired},
		{http.StatusConflict, `{"error":"x","code":"expired"}`, ErrExpired},
		{http.StatusServiceUnavailable, `{"error":"x","code":"refresh_pending"}`, ErrExpired},
		{http.StatusConflict, `{"error":"x","code":"no_user_token"}`, nil},
		{http.StatusForbidden, `{"error":"the ticket is bound to another server"}`, nil},
		{http.StatusBadGateway, `<html>proxy error</html>`, nil},
		{http.StatusOK, `{"token_type":"Bearer"}`, nil},
		{http.StatusOK, `not json`, nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status, tc.body), func(t *testing.T) {
			ep := fakeEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ Ticket) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			tok, err := ep.Token(context.Background(), "chat", "github", "alice")
			if err == nil || tok != nil {
				t.Fatalf("Token = %+v, %v; want an error", tok, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrNotConnected, ErrUnknownServer, ErrReauthorizationRequired, ErrExpired} {
				if !errors.Is(other, tc.want) && errors.Is(err, other) {
					t.Errorf("err = %v also matches %v", err, other)
				}
			}
			var ee *EndpointError
			if tc.status != http.StatusOK && (!errors.As(err, &ee) || ee.Status != tc.status) {
				t.Errorf("err = %v, want an *EndpointError with status %d", err, tc.status)
			}
		})
	}
}

func TestTokenEndpointWrongKey(t *testing.T) {
	ep := fakeEndpoint(t, func(http.ResponseWriter, *http.Request, Ticket) { t.Error("a ticket of another key was accepted") })
	ep.TicketKey = []byte(strings.Repeat("x", 32))
	var ee *EndpointError
	if _, err := ep.Token(context.Background(), "chat", "github", "alice"); !errors.As(err, &ee) || ee.Status != http.StatusUnauthorized {
		t.Errorf("err = %v, want 401", err)
	}
	if _, err := (TokenEndpoint{URL: ep.URL}).Token(context.Background(), "chat", "github", "alice"); err == nil {
		t.Error("no ticket key, yet no error")
	}
}
