package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// AuthServerMetadata is the part of RFC 8414 / OpenID Connect discovery
// metadata the operator uses.
type AuthServerMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	RegistrationEndpoint  string `json:"registration_endpoint,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`

	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`

	ClientIDMetadataDocumentSupported          bool `json:"client_id_metadata_document_supported,omitempty"`
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	// MetadataURL is where the document was found; "" when the endpoints are
	// the MCP 2025-03-26 defaults.
	MetadataURL string `json:"-"`
}

// SupportsS256 reports whether the server advertises PKCE S256.
func (m *AuthServerMetadata) SupportsS256() bool {
	return slices.Contains(m.CodeChallengeMethodsSupported, "S256")
}

// asMetadataURLs lists the well-known URLs for an issuer, in the order
// MCP 2025-11-25 §4.3 prescribes.
func asMetadataURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &Error{Reason: ReasonDiscoveryFailed, URL: redact.URL(issuer),
			Message: fmt.Sprintf("authorization server issuer %q is not a valid issuer URL (https, no query or fragment)", redact.Line(redact.URL(issuer), maxQuoted))}
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path == "" {
		return []string{
			origin + "/.well-known/oauth-authorization-server",
			origin + "/.well-known/openid-configuration",
		}, nil
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}, nil
}

// DiscoverAuthServer fetches and validates the metadata of the authorization
// server identified by issuer, trying the RFC 8414 and OpenID Connect
// well-known URLs in order. A document whose `issuer` is not identical to
// issuer (plain string comparison, no normalisation) is never used. The
// server must have authorization and token endpoints and advertise PKCE S256.
func DiscoverAuthServer(ctx context.Context, c *http.Client, issuer string) (*AuthServerMetadata, error) {
	md, found, err := discoverAuthServer(ctx, clientOrDefault(c), issuer)
	if err == nil && !found {
		err = &Error{Reason: ReasonDiscoveryFailed, URL: redact.URL(issuer),
			Message: fmt.Sprintf("no authorization server metadata found for issuer %s (tried the RFC 8414 and OpenID Connect well-known URLs); "+
				"set spec.auth.oauth2.clientID, authorizationURL and tokenURL instead", redact.URL(issuer))}
	}
	if err != nil {
		return nil, err
	}
	return md, nil
}

// discoverAuthServer is DiscoverAuthServer, reporting "nothing anywhere"
// (found=false, err=nil) separately for the back-compat path.
func discoverAuthServer(ctx context.Context, c *http.Client, issuer string) (*AuthServerMetadata, bool, error) {
	candidates, err := asMetadataURLs(issuer)
	if err != nil {
		return nil, false, err
	}
	var mismatch error
	for _, mdURL := range candidates {
		var raw oauthex.AuthServerMeta
		status, err := getMetadata(ctx, c, KindASMetadata, mdURL, &raw)
		if err != nil {
			return nil, false, err
		}
		if status == fetchAbsent {
			continue
		}
		md, err := authServerFromDocument(c, issuer, mdURL, &raw)
		switch {
		case ReasonOf(err) == ReasonIssuerMismatch:
			// RFC 8414 §3.3: must not be used. Another candidate may still
			// hold the right document.
			if mismatch == nil {
				mismatch = err
			}
			continue
		case err != nil:
			return nil, true, err
		}
		return md, true, nil
	}
	if mismatch != nil {
		return nil, true, mismatch
	}
	return nil, false, nil
}

// authServerFromDocument checks a decoded metadata document found at mdURL
// for issuer, without I/O: its `issuer` must be identical to issuer (else an
// IssuerMismatch *Error, the only error with that reason), then
// validateAuthServer.
func authServerFromDocument(c *http.Client, issuer, mdURL string, raw *oauthex.AuthServerMeta) (*AuthServerMetadata, error) {
	if raw.Issuer != issuer {
		return nil, &Error{Reason: ReasonIssuerMismatch, URL: redact.URL(mdURL),
			Message: fmt.Sprintf("authorization server metadata at %s has issuer %q, but it was looked up for issuer %q; they must be identical (RFC 8414 §3.3)",
				redact.URL(mdURL), redact.Line(raw.Issuer, maxQuoted), redact.Line(issuer, maxQuoted))}
	}
	md := fromOAuthex(raw, mdURL)
	if err := validateAuthServer(c, md); err != nil {
		return nil, err
	}
	return md, nil
}

func fromOAuthex(raw *oauthex.AuthServerMeta, mdURL string) *AuthServerMetadata {
	return &AuthServerMetadata{
		Issuer:                                     raw.Issuer,
		AuthorizationEndpoint:                      raw.AuthorizationEndpoint,
		TokenEndpoint:                              raw.TokenEndpoint,
		RegistrationEndpoint:                       raw.RegistrationEndpoint,
		RevocationEndpoint:                         raw.RevocationEndpoint,
		ScopesSupported:                            raw.ScopesSupported,
		CodeChallengeMethodsSupported:              raw.CodeChallengeMethodsSupported,
		TokenEndpointAuthMethodsSupported:          raw.TokenEndpointAuthMethodsSupported,
		GrantTypesSupported:                        raw.GrantTypesSupported,
		ClientIDMetadataDocumentSupported:          raw.ClientIDMetadataDocumentSupported,
		AuthorizationResponseISSParameterSupported: raw.AuthorizationResponseIssParameterSupported,
		MetadataURL:                                mdURL,
	}
}

// validateAuthServer checks required endpoints, PKCE S256, and that every
// endpoint URL passes the egress policy (a document must not be able to point
// the operator at a metadata service or, in production, at plain http).
func validateAuthServer(c *http.Client, md *AuthServerMetadata) error {
	doc := redact.URL(md.MetadataURL)
	for _, f := range [][2]string{{"authorization_endpoint", md.AuthorizationEndpoint}, {"token_endpoint", md.TokenEndpoint}} {
		if field, v := f[0], f[1]; v == "" {
			return &Error{Reason: ReasonDiscoveryFailed, URL: doc,
				Message: fmt.Sprintf("authorization server metadata at %s has no %s; fix the server or set spec.auth.oauth2 manually", doc, field)}
		}
	}
	if !md.SupportsS256() {
		return &Error{Reason: ReasonPKCEUnsupported, URL: doc,
			Message: fmt.Sprintf("authorization server %s does not advertise PKCE S256 in code_challenge_methods_supported (metadata at %s); PKCE is required, so this server cannot be used", redact.URL(md.Issuer), doc)}
	}
	return checkEndpoints(c, doc, md)
}

// checkEndpoints applies the static egress checks to the endpoints a
// metadata document names. Names are checked again at dial time.
func checkEndpoints(c *http.Client, doc string, md *AuthServerMetadata) error {
	p := policyOf(c)
	fields := []struct{ name, value string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"registration_endpoint", md.RegistrationEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return &Error{Reason: ReasonDiscoveryFailed, URL: doc,
				Message: fmt.Sprintf("authorization server metadata at %s has an invalid %s %q", doc, f.name, redact.Line(redact.URL(f.value), maxQuoted))}
		}
		if err := p.checkURL(u, KindASMetadata); err != nil {
			var be *Error
			errors.As(err, &be)
			return &Error{Reason: ReasonURLBlocked, URL: be.URL,
				Message: fmt.Sprintf("authorization server metadata at %s names %s %s, which is not allowed: %s", doc, f.name, be.URL, strings.TrimPrefix(be.Message, "outbound request to "+be.URL+" blocked: "))}
		}
	}
	return nil
}
