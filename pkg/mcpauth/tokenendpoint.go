package mcpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Routes of the callback server's token listener (--token-listen): a
// listener of its own on loopback, for the chat container in the same pod
// only. Never route it through the chat app's proxy.
const (
	// TokenPattern answers the ticket's user's access token for one server.
	TokenPattern = "/token/{namespace}/{name}" //nolint:gosec // G101: a route pattern, not a credential
	// ServersPath lists the enabled MCPServers and the ticket's user's
	// connection to each: what a chat pod with no Kubernetes credentials
	// needs instead of listing MCPServer objects.
	ServersPath = "/servers"
)

// TokenResponse is the body of GET TokenPattern: the access token and what
// a chat pod needs to use it, never the refresh token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresAt is absent when the authorization server gave no expiry.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Resource is the RFC 8707 resource the token is for: send it there only.
	Resource string `json:"resource,omitempty"`
	// Scope is the granted scopes, space-separated.
	Scope string `json:"scope,omitempty"`
}

// ServerInfo is one entry of GET ServersPath.
type ServerInfo struct {
	Namespace   string         `json:"namespace"`
	Name        string         `json:"name"`
	DisplayName string         `json:"displayName,omitempty"`
	URL         string         `json:"url"`
	AuthType    mcpv1.AuthType `json:"authType"`
	// Ready is the MCPServer's Ready condition.
	Ready bool     `json:"ready"`
	Tools []string `json:"tools,omitempty"`
	// Connected: the ticket's user has a usable token for an OAuth2
	// server (the same rule as the callback's /connections); always true
	// for servers that need no per-user connection.
	Connected bool       `json:"connected"`
	State     State      `json:"state,omitempty"`
	Expiry    *time.Time `json:"expiry,omitempty"`
	Scopes    []string   `json:"scopes,omitempty"`
}

// ServerList is the body of GET ServersPath.
type ServerList struct {
	User    string       `json:"user"`
	Servers []ServerInfo `json:"servers"`
}

// Codes of the token listener's error answers, in the "code" member next
// to a human "error" message.
const (
	CodeUnknownServer           = "unknown_server"           // 404: no such MCPServer, or it is disabled
	CodeNotConnected            = "not_connected"            // 404: the user has no token for it
	CodeNoUserToken             = "no_user_token"            // 409: its auth type has no per-user token
	CodeReauthorizationRequired = "reauthorization_required" // 409: the user must connect again
	CodeExpired                 = "expired"                  // 409: expired, and no refresh token to replace it
	CodeRefreshPending          = "refresh_pending"          // 503 with Retry-After: the refresher replaces it
)

// ErrUnknownServer means the MCPServer does not exist or is disabled. Only
// TokenEndpoint answers it; GetToken reads no MCPServer.
var ErrUnknownServer = errors.New("there is no such enabled MCP server")

// EndpointError is the token endpoint's refusal. errors.Is matches it to
// ErrNotConnected, ErrReauthorizationRequired, ErrExpired or
// ErrUnknownServer by its Code, so callers handle both token paths alike.
type EndpointError struct {
	Status  int    // HTTP status
	Code    string // one of the Code constants, or "" (e.g. a refused ticket: 401, 403)
	Message string // the callback server's explanation; never a token
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("token endpoint: HTTP %d: %s", e.Status, e.Message)
}

// Unwrap maps Code to this package's errors.
func (e *EndpointError) Unwrap() error {
	switch e.Code {
	case CodeUnknownServer:
		return ErrUnknownServer
	case CodeNotConnected:
		return ErrNotConnected
	case CodeReauthorizationRequired:
		return ErrReauthorizationRequired
	case CodeExpired, CodeRefreshPending:
		return ErrExpired
	}
	return nil
}

// TokenEndpointTicketTTL is how long the tickets TokenEndpoint mints live:
// each is used for one request at once.
const TokenEndpointTicketTTL = time.Minute

// maxEndpointBody caps what TokenEndpoint reads of an answer.
const maxEndpointBody = 1 << 20

// TokenEndpoint is a chat pod's client of the callback sidecar's token
// listener: the recommended way to get a user's token. The chat container
// needs no Kubernetes credentials, only the ticket key it already holds to
// mint connect tickets; it never sees a refresh token or another user's
// token. (GetToken, the weaker option, reads token Secrets and needs get
// on every Secret of the namespace.)
type TokenEndpoint struct {
	// URL is the token listener's base URL, e.g. http://127.0.0.1:8091 (the
	// sidecar's --token-listen).
	URL string
	// TicketKey is the callback server's --ticket-key-file content.
	TicketKey []byte
	// HTTPClient is used for the requests; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
}

var defaultEndpointClient = &http.Client{Timeout: 10 * time.Second}

// Token returns user's access token for the MCPServer namespace/name, or an
// error matching ErrNotConnected, ErrReauthorizationRequired, ErrExpired or
// ErrUnknownServer (an *EndpointError for any refusal). It mints a ticket
// bound to that server for the request. Like GetToken it never refreshes:
// the operator's refresher does.
func (e TokenEndpoint) Token(ctx context.Context, namespace, name, user string) (*Token, error) {
	var body TokenResponse
	if err := e.get(ctx, RoutePath(TokenPattern, namespace, name), Ticket{User: user, Server: namespace + "/" + name}, &body); err != nil {
		return nil, err
	}
	if body.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint: the answer for %s/%s holds no access token", namespace, name)
	}
	tok := &Token{AccessToken: body.AccessToken, TokenType: body.TokenType, Resource: body.Resource, Scopes: strings.Fields(body.Scope)}
	if body.ExpiresAt != nil {
		tok.Expiry = *body.ExpiresAt
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	return tok, nil
}

// Servers lists the enabled MCPServers of the callback server's namespace,
// with user's connection to each.
func (e TokenEndpoint) Servers(ctx context.Context, user string) ([]ServerInfo, error) {
	var body ServerList
	if err := e.get(ctx, ServersPath, Ticket{User: user, AnyServer: true}, &body); err != nil {
		return nil, err
	}
	return body.Servers, nil
}

// get sends GET path with a fresh bearer ticket t and decodes a 200 into out.
func (e TokenEndpoint) get(ctx context.Context, path string, t Ticket, out any) error {
	t.TTL = TokenEndpointTicketTTL
	ticket, err := MintTicket(e.TicketKey, t)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(e.URL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("token endpoint: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+ticket)
	req.Header.Set("Accept", "application/json")
	hc := e.HTTPClient
	if hc == nil {
		hc = defaultEndpointClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxEndpointBody))
	if err != nil {
		return fmt.Errorf("token endpoint: reading the answer to GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var refusal struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		if json.Unmarshal(data, &refusal) != nil || refusal.Error == "" {
			refusal.Error = http.StatusText(resp.StatusCode)
		}
		return &EndpointError{Status: resp.StatusCode, Code: refusal.Code, Message: refusal.Error}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("token endpoint: the answer to GET %s is not the expected JSON: %w", path, err)
	}
	return nil
}
