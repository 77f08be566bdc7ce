// Package mcpauth is the small library a chat backend imports to use
// mcp-operator: it gets a user's token, either from the callback sidecar's
// loopback token endpoint (TokenEndpoint, recommended: the chat container
// needs no Kubernetes credentials and never sees a refresh token) or by
// reading the token Secret (GetToken, the weaker option: it needs get on
// every Secret of the namespace), with the same typed errors either way;
// it names the per-user token Secrets, builds the callback server's URLs,
// mints tickets, and re-exports the token Secret's key, state and
// annotation names a chat pod reads. The Secret's format itself, and the
// one rule for whether a token is usable, live in the module's
// internal/tokensecret codec, shared with the callback server and the
// operator's refresher.
package mcpauth
