// Package mcpauth is the small library a chat backend imports to use
// mcp-operator: it reads a user's token (GetToken and its typed errors),
// names the per-user token Secrets, builds the callback server's URLs,
// mints connect tickets, and re-exports the token Secret's key, state and
// annotation names a chat pod reads. The Secret's format itself, and the
// one rule for whether a token is usable, live in the module's
// internal/tokensecret codec, shared with the callback server and the
// operator's refresher.
package mcpauth
