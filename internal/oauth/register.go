package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Registration methods (Client.Method), as shown in status.
const (
	MethodStatic = "Static"
	MethodCIMD   = "CIMD"
	MethodDCR    = "DCR"
)

// Token endpoint client authentication methods this package implements.
const (
	AuthMethodNone              = "none"
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
)

// RegistrationRequest describes the client to register.
type RegistrationRequest struct {
	ClientName  string
	RedirectURI string
	Scopes      []string
	// ClientIDMetadataURL is the https URL at which the callback server
	// serves ClientMetadataDocument; set only when the callback URL is https.
	ClientIDMetadataURL string
	// ApplicationType is sent in DCR; "web" when empty.
	ApplicationType string
}

// Client is a registered (or pre-registered) OAuth client.
type Client struct {
	ClientID                string
	ClientSecret            string
	TokenEndpointAuthMethod string // none | client_secret_basic | client_secret_post
	Method                  string // Static | CIMD | DCR
	// RFC 7592 management credentials, when the server issued them.
	RegistrationAccessToken string
	RegistrationClientURI   string
	ClientSecretExpiresAt   time.Time // zero = never
	// ClientSecretIssuedAt is when the operator received the secret (zero
	// when unknown); with the expiry it gives the secret's lifetime.
	ClientSecretIssuedAt time.Time
	// Issuer is the authorization server the client is bound to; register
	// again when it changes.
	Issuer string
}

// Register obtains client credentials from the authorization server, in the
// MCP order: a Client ID Metadata Document when the server supports it and
// req.ClientIDMetadataURL is set (no request is made), else RFC 7591 dynamic
// client registration, else an error asking for manual credentials
// (RegistrationUnsupported). Pre-registered clients never reach this
// function. DCR 4xx answers are RegistrationFailed and not transient; 5xx,
// 429 and network failures are transient.
func Register(ctx context.Context, c *http.Client, as *AuthServerMetadata, req RegistrationRequest) (cl *Client, err error) {
	method := MethodDCR
	defer func() { RecordRegistration(method, err) }()
	if as == nil {
		return nil, &Error{Reason: ReasonRegistrationFailed, Message: "no authorization server metadata to register with"}
	}
	if err := ValidateRedirectURI(req.RedirectURI); err != nil {
		return nil, err
	}
	if as.ClientIDMetadataDocumentSupported && validCIMDURL(req.ClientIDMetadataURL) {
		method = MethodCIMD
		return &Client{ClientID: req.ClientIDMetadataURL, Method: MethodCIMD,
			TokenEndpointAuthMethod: AuthMethodNone, Issuer: as.Issuer}, nil
	}
	if as.RegistrationEndpoint == "" {
		return nil, unsupported(as, "")
	}
	return dynamicRegistration(ctx, clientOrDefault(c), as, req)
}

func unsupported(as *AuthServerMetadata, detail string) *Error {
	msg := fmt.Sprintf("authorization server %s offers no automatic client registration", redact.URL(as.Issuer))
	if detail != "" {
		msg += " (" + detail + ")"
	}
	if as.ClientIDMetadataDocumentSupported {
		msg += "; it supports Client ID Metadata Documents, which need an https callback URL"
	}
	msg += "; register an OAuth client with the provider and set spec.auth.oauth2.clientID, authorizationURL and tokenURL (and clientSecretRef for a confidential client)"
	return &Error{Reason: ReasonRegistrationUnsupported, URL: redact.URL(as.RegistrationEndpoint), Message: msg}
}

// validCIMDURL: a client ID metadata URL is https with a path.
func validCIMDURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && strings.Trim(u.Path, "/") != "" && u.Fragment == "" && u.User == nil
}

// chooseAuthMethod prefers a public client, then basic, then post; when the
// server lists none of these (or nothing), none.
func chooseAuthMethod(supported []string) string {
	for _, m := range []string{AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost} {
		if slices.Contains(supported, m) {
			return m
		}
	}
	return AuthMethodNone
}

// dcrResponse is the RFC 7591 §3.2.1 / RFC 7592 §3 answer, with numbers
// accepted in any JSON number form.
type dcrResponse struct {
	ClientID                string      `json:"client_id"`
	ClientSecret            string      `json:"client_secret"`
	ClientSecretExpiresAt   json.Number `json:"client_secret_expires_at"`
	TokenEndpointAuthMethod string      `json:"token_endpoint_auth_method"`
	RegistrationAccessToken string      `json:"registration_access_token"`
	RegistrationClientURI   string      `json:"registration_client_uri"`
}

func dynamicRegistration(ctx context.Context, c *http.Client, as *AuthServerMetadata, rr RegistrationRequest) (*Client, error) {
	endpoint := as.RegistrationEndpoint
	safe := redact.URL(endpoint)
	requested := chooseAuthMethod(as.TokenEndpointAuthMethodsSupported)
	meta := clientMetadata(rr, requested)
	payload, err := json.Marshal(&meta)
	if err != nil {
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: "encoding the registration request failed", Err: err}
	}
	req, err := http.NewRequestWithContext(WithKind(ctx, KindRegister), http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe, Message: fmt.Sprintf("invalid registration_endpoint %s", safe), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, requestError(ReasonRegistrationFailed, safe, "dynamic client registration at", err)
	}
	defer drainClose(resp)
	body, err := readBody(resp, ReasonRegistrationFailed, safe)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return nil, unsupported(as, fmt.Sprintf("its registration endpoint %s answered HTTP %d", safe, resp.StatusCode))
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated:
		e := statusError(ReasonRegistrationFailed, safe, "dynamic client registration at", resp, body)
		if !e.Transient {
			e.Message += "; check the redirect URI and scopes, or register a client manually and set spec.auth.oauth2"
		}
		return nil, e
	}
	return clientFromRegistration(body, safe, requested, as.Issuer)
}

// clientMetadata is the RFC 7591 metadata the operator registers (and
// updates, RFC 7592) a client with.
func clientMetadata(rr RegistrationRequest, authMethod string) oauthex.ClientRegistrationMetadata {
	appType := rr.ApplicationType
	if appType == "" {
		appType = "web"
	}
	return oauthex.ClientRegistrationMetadata{
		RedirectURIs:            []string{rr.RedirectURI},
		TokenEndpointAuthMethod: authMethod,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		ClientName:              rr.ClientName,
		Scope:                   JoinScopes(rr.Scopes),
		ApplicationType:         appType,
	}
}

// maxSecretExpiresAt is 10000-01-01T00:00:00Z in Unix seconds.
const maxSecretExpiresAt = 253402300800

// clientFromRegistration decodes and checks a successful (200/201) DCR
// answer, without I/O. requested is the token_endpoint_auth_method the
// request asked for; issuer is the authorization server registered with.
func clientFromRegistration(body []byte, safe, requested, issuer string) (*Client, error) {
	var r dcrResponse
	if err := json.Unmarshal(body, &r); err != nil || r.ClientID == "" {
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe,
			Message: fmt.Sprintf("dynamic client registration at %s returned no usable client_id (invalid response document)", safe)}
	}
	cl := &Client{
		ClientID:                r.ClientID,
		ClientSecret:            r.ClientSecret,
		TokenEndpointAuthMethod: r.TokenEndpointAuthMethod,
		Method:                  MethodDCR,
		RegistrationAccessToken: r.RegistrationAccessToken,
		RegistrationClientURI:   r.RegistrationClientURI,
		Issuer:                  issuer,
	}
	// A number past the year 9999 is no instant (and int64(n) would wrap
	// into the past, so the secret would look expired and the client be
	// registered again at every reconcile): it counts as "never", like 0.
	if n, err := r.ClientSecretExpiresAt.Float64(); err == nil && n > 0 && n < maxSecretExpiresAt {
		cl.ClientSecretExpiresAt = time.Unix(int64(n), 0).UTC()
	}
	if cl.TokenEndpointAuthMethod == "" {
		// RFC 7591 §3.2.1: the server returns what it registered; when it
		// does not say, infer from whether a secret was issued.
		switch {
		case cl.ClientSecret == "":
			cl.TokenEndpointAuthMethod = AuthMethodNone
		case requested != AuthMethodNone:
			cl.TokenEndpointAuthMethod = requested
		default:
			cl.TokenEndpointAuthMethod = AuthMethodClientSecretBasic
		}
	}
	switch cl.TokenEndpointAuthMethod {
	case AuthMethodNone:
	case AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
		if cl.ClientSecret == "" {
			return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe,
				Message: fmt.Sprintf("dynamic client registration at %s registered %s but returned no client_secret", safe, cl.TokenEndpointAuthMethod)}
		}
	default:
		return nil, &Error{Reason: ReasonRegistrationFailed, URL: safe,
			Message: fmt.Sprintf("dynamic client registration at %s registered token_endpoint_auth_method %q, which the operator does not implement (none, client_secret_basic, client_secret_post)",
				safe, upstreamCode(cl.TokenEndpointAuthMethod, cl.ClientSecret, cl.RegistrationAccessToken))}
	}
	return cl, nil
}
