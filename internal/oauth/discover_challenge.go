package oauth

import (
	"context"
	"net/http"
)

// DiscoverFromChallenge is Discover for a caller that already holds the 401
// an MCP request got (a proxy or client re-authorizing after its token was
// rejected): challenge is that response's Bearer challenge (BearerChallenge;
// nil when it had none). No probe is sent, so the scope and
// resource_metadata of the request that actually failed are used; when the
// authorization server has moved, the result names the new one.
func DiscoverFromChallenge(ctx context.Context, c *http.Client, serverURL string, challenge map[string]string) (d *Discovery, err error) {
	defer func() { recordDiscovery(err) }()
	c = clientOrDefault(c)
	server, err := parseServerURL(c, serverURL)
	if err != nil {
		return nil, err
	}
	return (*Discoverer)(nil).discoverFrom(ctx, c, server, serverURL, "", challenge)
}
