package oauth

import (
	"context"
	"fmt"
	"net/http"

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
