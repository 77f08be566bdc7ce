package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Endpoint is where the authorization-code flow talks to.
type Endpoint struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	RevocationEndpoint    string
	ISSParameterSupported bool // RFC 9207 authorization_response_iss_parameter_supported
}

// EndpointFromMetadata returns the flow endpoints of discovered metadata.
func EndpointFromMetadata(md *AuthServerMetadata) Endpoint {
	return Endpoint{
		Issuer:                md.Issuer,
		AuthorizationEndpoint: md.AuthorizationEndpoint,
		TokenEndpoint:         md.TokenEndpoint,
		RevocationEndpoint:    md.RevocationEndpoint,
		ISSParameterSupported: md.AuthorizationResponseISSParameterSupported,
	}
}

// FlowConfig is everything the authorization-code flow, refresh and
// revocation need for one server.
type FlowConfig struct {
	Client      Client
	Endpoint    Endpoint
	RedirectURI string
	// Resource is the RFC 8707 resource sent on the authorization request
	// and the code exchange; "" sends none.
	Resource string
	// ResourceOnRefresh says whether a refresh sends a resource too (the
	// one its grant was made for: see Refresh).
	ResourceOnRefresh bool
	Scopes            []string
	// AuthorizationParameters are added to the authorization request only,
	// except those the flow sets itself (ReservedAuthorizationParameters).
	AuthorizationParameters map[string]string
	// CABundle is the server's own PEM CA bundle (spec.caBundleRef), if any:
	// token requests go through TrustedClients.For(base, CABundle).
	CABundle []byte
}

// ReservedAuthorizationParameters are the authorization request parameters
// the flow sets itself, or that would change how its response comes back
// (response_mode) or replace the request (request, request_uri: RFC 9101).
// AuthorizationParameters never set them, in any letter case; the CRD
// refuses them in spec.auth.oauth2.additionalAuthorizationParameters.
var ReservedAuthorizationParameters = []string{
	"client_id", "client_secret", "redirect_uri", "state", "code_challenge", "code_challenge_method",
	"response_type", "response_mode", "scope", "resource", "request", "request_uri",
}

// isReservedAuthorizationParameter reports whether AuthorizationParameters
// may not set name.
func isReservedAuthorizationParameter(name string) bool {
	return slices.Contains(ReservedAuthorizationParameters, strings.ToLower(name))
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random bytes).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// NewState returns a fresh, unguessable state value (32 random bytes).
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (cfg FlowConfig) oauth2Config() *oauth2.Config {
	oc := &oauth2.Config{
		ClientID:    cfg.Client.ClientID,
		RedirectURL: cfg.RedirectURI,
		Scopes:      UnionScopes(cfg.Scopes),
		Endpoint: oauth2.Endpoint{
			AuthURL:   cfg.Endpoint.AuthorizationEndpoint,
			TokenURL:  cfg.Endpoint.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	switch effectiveAuthMethod(cfg.Client) {
	case AuthMethodClientSecretBasic:
		oc.ClientSecret = cfg.Client.ClientSecret
		oc.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case AuthMethodClientSecretPost:
		oc.ClientSecret = cfg.Client.ClientSecret
	}
	return oc
}

// AuthCodeURL builds the authorization request URL: response_type code,
// client_id, redirect_uri, scope (space-joined, omitted when empty), state,
// PKCE S256 (always, even when the server's metadata is unknown), the
// RFC 8707 resource when cfg.Resource is set, and cfg's additional
// authorization parameters but the reserved ones.
func AuthCodeURL(cfg FlowConfig, state, verifier string) string {
	opts := []oauth2.AuthCodeOption{}
	for _, k := range slices.Sorted(maps.Keys(cfg.AuthorizationParameters)) {
		if !isReservedAuthorizationParameter(k) {
			opts = append(opts, oauth2.SetAuthURLParam(k, cfg.AuthorizationParameters[k]))
		}
	}
	opts = append(opts, oauth2.S256ChallengeOption(verifier))
	if cfg.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", cfg.Resource))
	}
	return cfg.oauth2Config().AuthCodeURL(state, opts...)
}

// CheckIssuerParameter applies RFC 9207 to the authorization response: when
// the server advertises authorization_response_iss_parameter_supported, iss
// must be present and equal the issuer; when it does not, an iss that is
// present must still be equal. Plain string comparison. A mismatch is an
// IssuerMismatch *Error, and the caller must then not act on the response
// (not even on its error parameters). When no issuer is known (pre-registered
// endpoints without metadata) a present iss cannot be checked and is accepted.
func CheckIssuerParameter(cfg FlowConfig, iss string, present bool) error {
	return checkIssuer(cfg, iss, present)
}

// checkIssuer is CheckIssuerParameter; secrets (the response's state and
// code) are redacted from the iss it quotes.
func checkIssuer(cfg FlowConfig, iss string, present bool, secrets ...string) error {
	want := cfg.Endpoint.Issuer
	switch {
	case cfg.Endpoint.ISSParameterSupported && !present:
		return &Error{Reason: ReasonIssuerMismatch, URL: redact.URL(want),
			Message: fmt.Sprintf("the authorization response has no iss parameter, but authorization server %s advertises it (RFC 9207); the response was discarded", redact.URL(want))}
	case present && want == "" && !cfg.Endpoint.ISSParameterSupported:
		return nil
	case present && iss != want:
		return &Error{Reason: ReasonIssuerMismatch, URL: redact.URL(want),
			Message: fmt.Sprintf("the authorization response comes from issuer %q, not from %s (RFC 9207 mix-up protection); the response was discarded", quoteUpstream(iss, secrets...), redact.URL(want))}
	}
	return nil
}

// Exchange redeems an authorization code at the token endpoint with the PKCE
// verifier, the redirect URI, the RFC 8707 resource and the client's
// registered authentication method. Errors are *TokenError.
func Exchange(ctx context.Context, c *http.Client, cfg FlowConfig, code, verifier string) (*Token, error) {
	safe := redact.URL(cfg.Endpoint.TokenEndpoint)
	if cfg.Endpoint.TokenEndpoint == "" {
		return nil, &TokenError{Err: errors.New("no token endpoint configured")}
	}
	ctx = context.WithValue(WithKind(ctx, KindToken), oauth2.HTTPClient, clientOrDefault(c))
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if cfg.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", cfg.Resource))
	}
	tok, err := cfg.oauth2Config().Exchange(ctx, code, opts...)
	if err != nil {
		return nil, fromOAuth2Error(err, safe, code, verifier, cfg.Client.ClientSecret)
	}
	out := &Token{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.Type(),
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scopes = ParseScope(s)
	}
	if s, ok := tok.Extra("id_token").(string); ok {
		out.IDToken = s
	}
	return out, nil
}

// fromOAuth2Error converts an x/oauth2 error without ever rendering its
// Error(), which quotes the raw response body.
func fromOAuth2Error(err error, safeURL string, secrets ...string) *TokenError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// x/oauth2 reads a JSON error served as text/plain as a form.
			code, desc = oauthErrorFields(re.Body)
		}
		te := &TokenError{URL: safeURL, Code: upstreamCode(code, secrets...)}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		switch {
		case desc != "":
			te.Description = quoteUpstream(desc, secrets...)
		case code == "":
			te.Description = quoteUpstream(string(re.Body), secrets...)
		}
		return te
	}
	var oe *Error
	if errors.As(err, &oe) {
		return &TokenError{URL: safeURL, Err: oe}
	}
	var ue *url.Error
	if errors.As(err, &ue) || isNetworkError(err) {
		return &TokenError{URL: safeURL, Err: err}
	}
	// x/oauth2's own complaints ("server response missing access_token",
	// "cannot parse json", a body past the cap). They do not quote the body.
	return &TokenError{URL: safeURL, Err: errors.New(redact.Line(redact.Secrets(err.Error(), secrets...), maxQuoted))}
}
