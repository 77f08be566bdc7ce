package webhooks

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

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

// headerNameProblem says what is wrong with a header name the operator would
// send with a fixed value, or "" when it is fine. Authorization is only for
// auth.type Headers, where the Secret holds the whole header value.
func headerNameProblem(name string, authType mcpv1.AuthType) string {
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

// validateHeaderName reports headerNameProblem as a field error.
func validateHeaderName(name string, authType mcpv1.AuthType, path *field.Path) field.ErrorList {
	if problem := headerNameProblem(name, authType); problem != "" {
		return field.ErrorList{field.Invalid(path, name, problem)}
	}
	return nil
}

// isToken: RFC 9110 field-name = token = 1*tchar.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
