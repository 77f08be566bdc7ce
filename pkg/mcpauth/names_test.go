package mcpauth

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestTokenSecretNamesAreValidForAnyUser(t *testing.T) {
	server := strings.Repeat("s", 63)
	users := []string{"alice", "Alice", "alice@example.com", "ünïcødé 用户", strings.Repeat("x", 10000), "", "a/b:c"}
	seen := map[string]string{}
	for _, u := range users {
		name := TokenSecretName(server, u)
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("TokenSecretName(%q) = %q is not a valid Secret name: %v", u, name, errs)
		}
		if errs := validation.IsValidLabelValue(UserHash(u)); len(errs) > 0 {
			t.Errorf("UserHash(%q) is not a valid label value: %v", u, errs)
		}
		if strings.Contains(name, u) && u != "" {
			t.Errorf("the raw user ID %q appears in the Secret name", u)
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("users %q and %q share a Secret name", prev, u)
		}
		seen[name] = u
	}
}

func TestURLsShareOneBase(t *testing.T) {
	for _, base := range []string{"https://chat.example.com/mcp-auth", "https://chat.example.com/mcp-auth/"} {
		if got, want := RedirectURI(base, "chat", "github"), "https://chat.example.com/mcp-auth/callback/chat/github"; got != want {
			t.Errorf("RedirectURI(%q) = %q, want %q", base, got, want)
		}
		if got, want := ClientMetadataURL(base, "chat", "github"), "https://chat.example.com/mcp-auth/client-metadata/chat/github.json"; got != want {
			t.Errorf("ClientMetadataURL(%q) = %q, want %q", base, got, want)
		}
		if got, want := ConnectURL(base, "chat", "github"), "https://chat.example.com/mcp-auth/connect/chat/github"; got != want {
			t.Errorf("ConnectURL(%q) = %q, want %q", base, got, want)
		}
	}
}
