// Package httpheader says which header names the operator may send with a
// fixed value from a Secret. The admission webhook and the reconciler share
// it, so a Secret that arrives after admission is held to the same rule.
package httpheader

import (
	"fmt"
	"net/http"
	"strings"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// transportHeaders are set by the HTTP client or the MCP transport itself; a
// fixed value would break framing, connection handling or MCP sessions.
var transportHeaders = map[string]bool{
	"Host":                 true,
	"Content-Length":       true,
	"Transfer-Encoding":    true,
	"Connection":           true,
	"Keep-Alive":           true,
	"Proxy-Connection":     true,
	"Te":                   true,
	"Trailer":              true,
	"Upgrade":              true,
	"Content-Type":         true,
	"Mcp-Session-Id":       true,
	"Mcp-Protocol-Version": true,
}

// Problem says what is wrong with a header name the operator would
// send with a fixed value, or "" when it is fine. Authorization is only for
// auth.type Headers, where the Secret holds the whole header value.
func Problem(name string, authType mcpv1.AuthType) string {
	canonical := http.CanonicalHeaderKey(name)
	switch {
	case name == "":
		return "must not be empty"
	case !isToken(name):
		return "is not a valid HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only, e.g. X-API-Key"
	case transportHeaders[canonical]:
		return fmt.Sprintf("%s is set by the HTTP client or the MCP transport and would break requests: use another header, e.g. X-API-Key", canonical)
	case canonical == "Authorization" && authType != mcpv1.AuthTypeHeaders:
		return "Authorization may only be sent with auth.type Headers: use auth.type Headers with a Secret whose Authorization key holds the whole value (e.g. \"Bearer <key>\"), or use another header such as X-API-Key"
	}
	return ""
}

// isToken: RFC 9110 field-name = token = 1*tchar.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTChar(s[i]) {
			return false
		}
	}
	return true
}

// isTChar reports an RFC 9110 tchar: a letter, a digit or one of !#$%&'*+-.^_`|~.
func isTChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
