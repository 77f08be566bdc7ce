package oauth

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// DeleteRegistration deletes a dynamically registered client (RFC 7592 §2.3)
// using its registration access token. It does nothing when the client has
// no registration_client_uri or token. A client the server no longer knows
// (404, 410, or 401 as RFC 7592 prescribes for unknown clients) counts as
// deleted. Other 4xx are RegistrationFailed; 5xx, 429 and network failures
// are transient.
func DeleteRegistration(ctx context.Context, c *http.Client, cl *Client) error {
	if cl == nil || cl.RegistrationClientURI == "" || cl.RegistrationAccessToken == "" {
		return nil
	}
	safe := redact.URL(cl.RegistrationClientURI)
	req, err := http.NewRequestWithContext(WithKind(ctx, KindRegister), http.MethodDelete, cl.RegistrationClientURI, nil)
	if err != nil {
		return &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf("invalid registration_client_uri %s", safe)}
	}
	req.Header.Set("Authorization", "Bearer "+cl.RegistrationAccessToken)
	resp, err := clientOrDefault(c).Do(req)
	if err != nil {
		return requestError(ReasonRegistrationFailed, safe, "deleting the client registration at", err)
	}
	defer drainClose(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent, http.StatusNotFound, http.StatusGone, http.StatusUnauthorized:
		return nil
	}
	return statusError(ReasonRegistrationFailed, safe, "deleting the client registration at", resp, nil,
		cl.RegistrationAccessToken, cl.ClientSecret)
}

// RegistrationState is what an RFC 7592 read says of a registered client.
type RegistrationState int

const (
	// RegistrationUnverifiable means the client has no registration_client_uri
	// or registration access token, so it cannot be read back.
	RegistrationUnverifiable RegistrationState = iota
	// RegistrationKnown means the authorization server still knows the client.
	RegistrationKnown
	// RegistrationForgotten means it does not (404, 410, or the 401 RFC 7592
	// prescribes for an unknown client or a revoked access token).
	RegistrationForgotten
)

// ReadRegistration reads a dynamically registered client back (RFC 7592
// §2.1) to learn whether the authorization server still knows it. It is the
// corroboration the operator asks for before it replaces a client on a
// report of invalid_client. Errors are *Error: 5xx, 429 and network failures
// are transient; other answers are RegistrationFailed.
func ReadRegistration(ctx context.Context, c *http.Client, cl *Client) (RegistrationState, error) {
	if cl == nil || cl.RegistrationClientURI == "" || cl.RegistrationAccessToken == "" {
		return RegistrationUnverifiable, nil
	}
	safe := redact.URL(cl.RegistrationClientURI)
	req, err := http.NewRequestWithContext(WithKind(ctx, KindRegister), http.MethodGet, cl.RegistrationClientURI, nil)
	if err != nil {
		return RegistrationUnverifiable, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf("invalid registration_client_uri %s", safe)}
	}
	req.Header.Set("Authorization", "Bearer "+cl.RegistrationAccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := clientOrDefault(c).Do(req)
	if err != nil {
		return RegistrationUnverifiable, requestError(ReasonRegistrationFailed, safe, "reading the client registration at", err)
	}
	defer drainClose(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return RegistrationKnown, nil
	case http.StatusNotFound, http.StatusGone, http.StatusUnauthorized:
		return RegistrationForgotten, nil
	}
	return RegistrationUnverifiable, statusError(ReasonRegistrationFailed, safe, "reading the client registration at", resp, nil,
		cl.RegistrationAccessToken, cl.ClientSecret)
}

// RenewClientSecret asks the authorization server for a new client secret
// by an RFC 7592 §2.2 update of the registration with the client's own
// metadata. The client keeps its ID, so the grants users gave it stay
// valid: renewing, unlike registering a new client, disconnects no one.
// The client must hold management credentials (Renewable). An answer that
// does not extend the secret's life is RegistrationFailed, as are other 4xx
// (the caller then registers a new client); 5xx, 429 and network failures
// are transient.
func RenewClientSecret(ctx context.Context, c *http.Client, cl *Client, rr RegistrationRequest) (*Client, error) {
	if !Renewable(cl) {
		return nil, &Error{Reason: ReasonRegistrationFailed, Message: fmt.Sprintf("client %s has no RFC 7592 management credentials", cl.ClientID)}
	}
	safe := redact.URL(cl.RegistrationClientURI)
	update := struct {
		ClientID string `json:"client_id"`
		oauthex.ClientRegistrationMetadata
	}{cl.ClientID, clientMetadata(rr, cl.TokenEndpointAuthMethod)}
	payload, err := json.Marshal(&update)
	if err != nil {
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: "encoding the registration update failed", Err: err}
	}
	req, err := http.NewRequestWithContext(WithKind(ctx, KindRegister), http.MethodPut, cl.RegistrationClientURI, bytes.NewReader(payload))
	if err != nil {
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf("invalid registration_client_uri %s", safe)}
	}
	req.Header.Set("Authorization", "Bearer "+cl.RegistrationAccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := clientOrDefault(c).Do(req)
	if err != nil {
		return nil, requestError(ReasonRegistrationFailed, safe, "updating the client registration at", err)
	}
	defer drainClose(resp)
	body, err := readBody(resp, ReasonRegistrationFailed, safe)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(ReasonRegistrationFailed, safe, "updating the client registration at", resp, body,
			cl.RegistrationAccessToken, cl.ClientSecret)
	}
	renewed, err := clientFromRegistration(body, safe, cl.TokenEndpointAuthMethod, cl.Issuer)
	if err != nil {
		return nil, err
	}
	renewed.Method = cl.Method
	// RFC 7592 §3 returns both again; a server that leaves them out keeps them.
	renewed.RegistrationAccessToken = cmp.Or(renewed.RegistrationAccessToken, cl.RegistrationAccessToken)
	renewed.RegistrationClientURI = cmp.Or(renewed.RegistrationClientURI, cl.RegistrationClientURI)
	switch {
	case renewed.ClientID != cl.ClientID:
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf(
			"updating the client registration at %s answered another client_id", safe)}
	case renewed.TokenEndpointAuthMethod != cl.TokenEndpointAuthMethod:
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf(
			"updating the client registration at %s answered token_endpoint_auth_method %q (no client_secret?), not %s",
			safe, upstreamCode(renewed.TokenEndpointAuthMethod, cl.ClientSecret, cl.RegistrationAccessToken), cl.TokenEndpointAuthMethod)}
	case !renewed.ClientSecretExpiresAt.IsZero() && !renewed.ClientSecretExpiresAt.After(cl.ClientSecretExpiresAt):
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf(
			"updating the client registration at %s did not extend the client secret's life (it still expires at %s)",
			safe, renewed.ClientSecretExpiresAt.UTC().Format(time.RFC3339))}
	}
	return renewed, nil
}

// Renewable reports whether cl can be read, updated and deleted through
// RFC 7592: it was registered dynamically and holds its management
// credentials.
func Renewable(cl *Client) bool {
	return cl != nil && cl.Method == MethodDCR && cl.RegistrationClientURI != "" && cl.RegistrationAccessToken != ""
}
