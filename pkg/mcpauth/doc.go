// Package mcpauth is the small library a chat backend imports to use
// mcp-operator: it names the per-user token Secrets (one function for the
// callback server, the refresher and chat pods alike), builds the callback
// server's URLs, and defines the token Secret's keys and states.
package mcpauth
