package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// prmURLs lists the RFC 9728 well-known URLs for an MCP server URL, path
// form first; a server at the root has only the root form.
func prmURLs(server *url.URL) []string {
	origin := server.Scheme + "://" + server.Host
	root := origin + "/.well-known/oauth-protected-resource"
	path := strings.TrimSuffix(server.EscapedPath(), "/")
	if path == "" {
		return []string{root}
	}
	return []string{root + path, root}
}

// fetchPRM fetches protected resource metadata and validates it against the
// MCP server URL: `resource` must equal serverURL, or differ only by a
// trailing slash; when allowOrigin is set (the root well-known URL, whose
// resource identifier per RFC 9728 §3.3 is the origin) the origin is
// accepted too. `authorization_servers` must not be empty.
func fetchPRM(ctx context.Context, c *http.Client, prmURL, serverURL string, allowOrigin bool) (*oauthex.ProtectedResourceMetadata, fetchStatus, error) {
	var prm oauthex.ProtectedResourceMetadata
	status, err := getMetadata(ctx, c, KindPRM, prmURL, &prm)
	if err != nil || status == fetchAbsent {
		return nil, status, err
	}
	if err := checkPRM(&prm, prmURL, serverURL, allowOrigin); err != nil {
		return nil, fetchFound, err
	}
	return &prm, fetchFound, nil
}

// checkPRM is fetchPRM's validation of a decoded document, without I/O.
func checkPRM(prm *oauthex.ProtectedResourceMetadata, prmURL, serverURL string, allowOrigin bool) error {
	safe := redact.URL(prmURL)
	ok := sameResource(prm.Resource, serverURL)
	if !ok && allowOrigin {
		if u, err := url.Parse(serverURL); err == nil {
			ok = sameResource(prm.Resource, u.Scheme+"://"+u.Host)
		}
	}
	if prm.Resource == "" || !ok {
		return &Error{Reason: ReasonResourceMismatch, URL: safe,
			Message: fmt.Sprintf("protected resource metadata at %s is for resource %q, not for the MCP server URL %s (RFC 9728 §3.3); check spec.url",
				safe, redact.Line(redact.URL(prm.Resource), maxQuoted), redact.URL(serverURL))}
	}
	if len(prm.AuthorizationServers) == 0 || prm.AuthorizationServers[0] == "" {
		return &Error{Reason: ReasonDiscoveryFailed, URL: safe,
			Message: fmt.Sprintf("protected resource metadata at %s lists no authorization_servers; fix the server or set spec.auth.oauth2 manually", safe)}
	}
	return nil
}

// sameResource compares resource identifiers exactly, tolerating only a
// trailing slash (GitHub serves `.../mcp` for a server configured as
// `.../mcp/`).
func sameResource(a, b string) bool {
	return a == b || strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}
