package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Discovery is what Discover learned about an MCP server's authorization.
type Discovery struct {
	// Resource is the RFC 8707 resource indicator to send: the PRM
	// `resource` exactly as served; in back-compat mode the server URL.
	Resource string
	// ResourceMetadataURL is where the PRM was found ("" in back-compat).
	ResourceMetadataURL string
	// ChallengeScopes is the `scope` of the 401 Bearer challenge.
	ChallengeScopes []string
	// ResourceScopes is the PRM scopes_supported.
	ResourceScopes []string
	AuthServer     AuthServerMetadata
	// Legacy is set when no PRM was found: the MCP 2025-03-26 fallback,
	// where the server's origin is the authorization server (or the pinned
	// issuer, see DiscoverPinned). When that origin has no
	// metadata either, the endpoints are the defaults /authorize, /token
	// and /register and AuthServer.MetadataURL is empty; PKCE S256 is sent
	// anyway.
	Legacy bool
}

// Discover finds the authorization server of the MCP server at serverURL:
//
//  1. an unauthenticated MCP initialize POST (then tools/list, when
//     initialize is not protected); a 401 Bearer challenge's
//     resource_metadata names the PRM and its scope is kept;
//  2. otherwise {origin}/.well-known/oauth-protected-resource{path}, then
//     {origin}/.well-known/oauth-protected-resource — the root only when the
//     path form is absent (4xx);
//  3. the PRM must list an authorization server and be for this resource;
//  4. the metadata (see DiscoverAuthServer) of the first authorization
//     server it lists: RFC 9728 gives the list no order, and the first is
//     what MCP clients generally use (DiscoverPinned picks another);
//  5. no PRM at all: MCP 2025-03-26 back-compat (see Discovery.Legacy).
//
// Errors are *Error; Transient ones (network, 5xx, 429) are worth retrying.
// Every call fetches everything; a Discoverer shares authorization server
// metadata between calls.
func Discover(ctx context.Context, c *http.Client, serverURL string) (*Discovery, error) {
	return (*Discoverer)(nil).Discover(ctx, c, serverURL)
}

// Discover is the package's Discover, with the authorization server's
// metadata from d's cache when a discovery fetched it less than
// d.MetadataTTL ago.
func (d *Discoverer) Discover(ctx context.Context, c *http.Client, serverURL string) (*Discovery, error) {
	return d.DiscoverPinned(ctx, c, serverURL, "")
}

// DiscoverPinned is Discover with the authorization server chosen by the
// MCPServer's spec.auth.oauth2.issuer: the protected resource metadata
// must list it (else an IssuerNotListed error, which a person must fix),
// and a server without that metadata has its authorization server's
// metadata read from issuer rather than from the server's origin. An empty
// issuer is Discover.
func (d *Discoverer) DiscoverPinned(ctx context.Context, c *http.Client, serverURL, issuer string) (disc *Discovery, err error) {
	defer func() { recordDiscovery(err) }()
	c = clientOrDefault(c)
	server, err := parseServerURL(c, serverURL)
	if err != nil {
		return nil, err
	}
	challenge, err := probe(ctx, c, serverURL)
	if err != nil {
		return nil, err
	}
	return d.discoverFrom(ctx, c, server, serverURL, issuer, challenge)
}

// parseServerURL checks that serverURL is an absolute http(s) URL the
// egress policy allows.
func parseServerURL(c *http.Client, serverURL string) (*url.URL, error) {
	server, err := url.Parse(serverURL)
	if err != nil || (server.Scheme != "https" && server.Scheme != "http") || server.Host == "" {
		return nil, &Error{Reason: ReasonDiscoveryFailed, URL: redact.URL(serverURL),
			Message: fmt.Sprintf("MCP server URL %q is not an absolute http(s) URL; fix spec.url", redact.Line(redact.URL(serverURL), maxQuoted))}
	}
	if err := policyOf(c).checkURL(server, KindMCP); err != nil {
		return nil, err
	}
	return server, nil
}

// discoverFrom is discovery after the probe: challenge holds the Bearer
// challenge parameters of a 401 (nil when there was none), pinned the
// issuer to choose ("" for the first listed).
func (d *Discoverer) discoverFrom(ctx context.Context, c *http.Client, server *url.URL, serverURL, pinned string, challenge map[string]string) (*Discovery, error) {
	disc := &Discovery{ChallengeScopes: ParseScope(challenge["scope"])}

	type candidate struct {
		url         string
		allowOrigin bool
	}
	var candidates []candidate
	fromHeader := challenge["resource_metadata"]
	if fromHeader != "" {
		ref, err := server.Parse(fromHeader)
		if err != nil {
			return nil, &Error{Reason: ReasonDiscoveryFailed, URL: redact.URL(serverURL),
				Message: fmt.Sprintf("the 401 challenge of %s has an invalid resource_metadata URL", redact.URL(serverURL))}
		}
		candidates = []candidate{{url: ref.String()}}
	} else {
		urls := prmURLs(server)
		for i, u := range urls {
			candidates = append(candidates, candidate{url: u, allowOrigin: i == len(urls)-1})
		}
	}
	for _, cand := range candidates {
		prm, status, err := fetchPRM(ctx, c, cand.url, serverURL, cand.allowOrigin)
		if err != nil {
			return nil, err
		}
		if status == fetchAbsent {
			continue
		}
		issuer, err := chooseAuthServer(prm.AuthorizationServers, pinned, cand.url)
		if err != nil {
			return nil, err
		}
		md, err := d.authServer(ctx, c, issuer)
		if err != nil {
			return nil, err
		}
		disc.Resource = prm.Resource
		disc.ResourceMetadataURL = cand.url
		disc.ResourceScopes = UnionScopes(prm.ScopesSupported)
		disc.AuthServer = *md
		return disc, nil
	}
	if fromHeader != "" {
		safe := redact.URL(candidates[0].url)
		return nil, &Error{Reason: ReasonDiscoveryFailed, URL: safe,
			Message: fmt.Sprintf("the 401 challenge of %s names resource_metadata %s, which serves no metadata document; fix the server or set spec.auth.oauth2 manually",
				redact.URL(serverURL), safe)}
	}
	if pinned != "" {
		return pinnedWithoutPRM(ctx, d, c, serverURL, pinned, disc)
	}
	return legacy(ctx, c, server, serverURL, disc)
}

// chooseAuthServer is the authorization server to use of those the
// protected resource metadata at prmURL lists: pinned, which must be
// listed, or else the first.
func chooseAuthServer(listed []string, pinned, prmURL string) (string, error) {
	if pinned == "" {
		return listed[0], nil
	}
	// RFC 8414 §2: issuer identifiers compare as strings.
	if slices.Contains(listed, pinned) {
		return pinned, nil
	}
	safe := make([]string, len(listed))
	for i, l := range listed {
		safe[i] = redact.Line(redact.URL(l), maxQuoted)
	}
	return "", &Error{Reason: ReasonIssuerNotListed, URL: redact.URL(prmURL),
		Message: fmt.Sprintf("spec.auth.oauth2.issuer %s is not among the authorization servers the protected resource metadata at %s lists (%s); "+
			"set spec.auth.oauth2.issuer to one of them, or remove it to use the first",
			redact.URL(pinned), redact.URL(prmURL), strings.Join(safe, ", "))}
}

// pinnedWithoutPRM is discovery for a server without protected resource
// metadata whose MCPServer names its authorization server: that issuer's
// metadata, which must exist, instead of the MCP 2025-03-26 guess from the
// server's origin.
func pinnedWithoutPRM(ctx context.Context, d *Discoverer, c *http.Client, serverURL, issuer string, disc *Discovery) (*Discovery, error) {
	md, err := d.authServer(ctx, c, issuer)
	if err != nil {
		return nil, err
	}
	disc.Legacy, disc.Resource, disc.AuthServer = true, serverURL, *md
	return disc, nil
}

// probe returns the Bearer challenge parameters of the server's answer to
// the unauthenticated Probe (nil map if it was not a 401). Any other answer
// is not an error: discovery continues with the well-known URLs.
func probe(ctx context.Context, c *http.Client, serverURL string) (map[string]string, error) {
	p, err := Probe(ctx, c, serverURL)
	return p.Challenge, err
}

// legacy implements the MCP 2025-03-26 fallback for servers without PRM: the
// authorization base URL is the server's origin; its metadata is used when
// present, else the default endpoints.
func legacy(ctx context.Context, c *http.Client, server *url.URL, serverURL string, d *Discovery) (*Discovery, error) {
	origin := server.Scheme + "://" + server.Host
	d.Legacy = true
	d.Resource = serverURL
	md, found, err := discoverAuthServer(ctx, c, origin)
	if err != nil {
		return nil, err
	}
	if found {
		d.AuthServer = *md
		return d, nil
	}
	d.AuthServer = AuthServerMetadata{
		Issuer:                origin,
		AuthorizationEndpoint: origin + "/authorize",
		TokenEndpoint:         origin + "/token",
		RegistrationEndpoint:  origin + "/register",
	}
	return d, nil
}
