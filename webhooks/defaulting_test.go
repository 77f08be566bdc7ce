package webhooks

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func TestDefaultFillsTheAPIDefaults(t *testing.T) {
	s := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp"}}
	Default(s)
	if s.Spec.Transport != mcpv1.DefaultTransport || s.Spec.Availability != mcpv1.DefaultAvailability ||
		s.Spec.Enabled == nil || *s.Spec.Enabled != mcpv1.DefaultEnabled || s.Spec.Auth.Type != mcpv1.DefaultAuthType {
		t.Fatalf("defaults not filled: %+v", s.Spec)
	}
}

func TestDefaultKeepsWhatIsSet(t *testing.T) {
	s := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{
		Transport: mcpv1.TransportSSE, Availability: mcpv1.AvailabilityForceOn, Enabled: ptr.To(false),
		Auth: mcpv1.Auth{Type: mcpv1.AuthTypeUserOIDC, UserOIDC: &mcpv1.UserOIDCAuth{}},
	}}
	want := s.DeepCopy()
	Default(s)
	if !equality.Semantic.DeepEqual(s, want) {
		t.Fatalf("Default changed explicit values:\n got %+v\nwant %+v", s.Spec, want.Spec)
	}
}

func TestDefaultTrimsAndCleans(t *testing.T) {
	s := messyServer()
	Default(s)
	sp := s.Spec
	checks := map[string][2]any{
		"displayName":      {sp.DisplayName, "Example"},
		"description":      {sp.Description, "Docs search"},
		"url":              {sp.URL, "https://mcp.example.com/mcp"},
		"tools.allow":      {sp.Tools.Allow, []string{"search", "fetch"}},
		"tools.deny":       {sp.Tools.Deny, []string{"delete"}},
		"oauth2.clientID":  {sp.Auth.OAuth2.ClientID, "client-1"},
		"authorizationURL": {sp.Auth.OAuth2.AuthorizationURL, "https://as.example.com/authorize"},
		"tokenURL":         {sp.Auth.OAuth2.TokenURL, "https://as.example.com/token"},
		"issuer":           {sp.Auth.OAuth2.Issuer, "https://as.example.com"},
		"scopes":           {sp.Auth.OAuth2.Scopes, []string{"openid", "profile"}},
		"clientSecretRef":  {*sp.Auth.OAuth2.ClientSecretRef, mcpv1.SecretKeySelector{Name: "oauth", Key: "secret"}},
	}
	for name, c := range checks {
		if !equality.Semantic.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %#v, want %#v", name, c[0], c[1])
		}
	}
}

func TestDefaultDropsToolListsLeftEmpty(t *testing.T) {
	s := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{Tools: &mcpv1.ToolFilter{Allow: []string{"", "  "}}}}
	Default(s)
	if s.Spec.Tools.Allow != nil {
		t.Fatalf("allow = %#v, want nil", s.Spec.Tools.Allow)
	}
}

func TestDefaultIsIdempotent(t *testing.T) {
	inputs := map[string]*mcpv1.MCPServer{
		"empty":   {},
		"minimal": {Spec: mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp"}},
		"messy":   messyServer(),
		"apiKey": {Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey,
			APIKey: &mcpv1.APIKeyAuth{Header: " X-API-Key ", SecretKeyRef: mcpv1.SecretKeySelector{Name: " k ", Key: " key "}}}}},
		"headers": {Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
			Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: " h "}}}}},
		"userOIDC": {Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeUserOIDC,
			UserOIDC: &mcpv1.UserOIDCAuth{Audience: " api "}}}},
	}
	for name, in := range inputs {
		once := in.DeepCopy()
		Default(once)
		twice := once.DeepCopy()
		Default(twice)
		if !equality.Semantic.DeepEqual(once, twice) {
			t.Errorf("%s: defaulting twice differs from once:\n once %+v\ntwice %+v", name, once.Spec, twice.Spec)
		}
	}
}

// messyServer is what a person might type: stray whitespace, empty and
// repeated tool names.
func messyServer() *mcpv1.MCPServer {
	return &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: "messy"},
		Spec: mcpv1.MCPServerSpec{
			DisplayName: "  Example\n",
			Description: "\tDocs search ",
			URL:         " https://mcp.example.com/mcp\n",
			Tools: &mcpv1.ToolFilter{
				Allow: []string{" search", "", "fetch ", "search", "  "},
				Deny:  []string{"delete", " delete "},
			},
			Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ClientID:         " client-1 ",
				AuthorizationURL: " https://as.example.com/authorize",
				TokenURL:         "https://as.example.com/token ",
				Issuer:           "\thttps://as.example.com ",
				ClientSecretRef:  &mcpv1.SecretKeySelector{Name: " oauth", Key: "secret "},
				Scopes:           []string{" openid", "profile "},
			}},
		},
	}
}
