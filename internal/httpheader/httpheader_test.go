package httpheader

import (
	"strings"
	"testing"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func TestProblem(t *testing.T) {
	for _, c := range []struct {
		name     string
		authType mcpv1.AuthType
		want     string
	}{
		{"X-API-Key", mcpv1.AuthTypeAPIKey, ""},
		{"x_api.key", mcpv1.AuthTypeAPIKey, ""},
		{"Authorization", mcpv1.AuthTypeHeaders, ""},
		{"authorization", mcpv1.AuthTypeAPIKey, "auth.type Headers"},
		{"Host", mcpv1.AuthTypeHeaders, "break requests"},
		{"content-length", mcpv1.AuthTypeAPIKey, "Content-Length"},
		{"Transfer-Encoding", mcpv1.AuthTypeHeaders, "break requests"},
		{"CONNECTION", mcpv1.AuthTypeHeaders, "Connection"},
		{"Mcp-Session-Id", mcpv1.AuthTypeHeaders, "MCP transport"},
		{"X API Key", mcpv1.AuthTypeAPIKey, "not a valid HTTP header name"},
		{"X-Key:", mcpv1.AuthTypeAPIKey, "not a valid HTTP header name"},
		{"", mcpv1.AuthTypeAPIKey, "must not be empty"},
	} {
		got := Problem(c.name, c.authType)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("Problem(%q, %s) = %q, want %q", c.name, c.authType, got, c.want)
		}
	}
}
