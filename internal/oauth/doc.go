// Package oauth is the one OAuth 2.x client library of mcp-operator.
//
// It implements everything an MCP client needs to talk to a remote MCP
// server's authorization server, for every caller in the project (the
// MCPServer reconciler, the callback server, the token refresher and the
// conformance client):
//
//   - egress: NewHTTPClient builds the only outbound HTTP client, with an
//     SSRF guard that checks resolved addresses at dial time, timeouts, a
//     body size cap, re-checked redirects and request metrics;
//   - discovery: Discover (RFC 9728 protected resource metadata, RFC 8414 /
//     OpenID Connect discovery, MCP 2025-03-26 back-compat) and
//     DiscoverAuthServer;
//   - registration: Register (Client ID Metadata Document, else RFC 7591
//     dynamic client registration), DeleteRegistration (RFC 7592) and
//     ClientMetadataDocument;
//   - the authorization-code flow: NewVerifier, NewState, AuthCodeURL,
//     CheckIssuerParameter (RFC 9207), Exchange, Refresh, Revoke (RFC 7009);
//   - scope helpers: DefaultScopes, ParseScope, JoinScopes, UnionScopes,
//     InsufficientScope.
//
// Errors are *Error (discovery, registration, egress) or *TokenError (token,
// refresh and revocation endpoints). Their messages name the URL (without
// its query string) and what to do, and never contain a token, code,
// verifier or secret; upstream error text is truncated.
//
// Types from github.com/modelcontextprotocol/go-sdk/oauthex are used for the
// wire formats and its WWW-Authenticate parser is reused, but not its fetch
// helpers: they apply their own address and scheme policy, normalise issuer
// strings and require an exact JSON Content-Type, all of which conflict with
// the rules this package must enforce.
package oauth
