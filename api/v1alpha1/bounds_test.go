package v1alpha1_test

import (
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// The exported bounds are the CRD's: code that trims status to them must
// trim to what the API server accepts.
func TestBoundsMatchTheCRD(t *testing.T) {
	raw, err := os.ReadFile("../../config/crd/bases/mcpoperator.io_mcpservers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(raw, crd); err != nil {
		t.Fatal(err)
	}
	status := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"]
	oauth2 := status.Properties["oauth2"]
	server := status.Properties["server"]
	checks := []struct {
		field string
		got   *int64
		want  int
	}{
		{"status.tools maxItems", status.Properties["tools"].MaxItems, mcpv1.MaxTools},
		{"status.tools[] maxLength", status.Properties["tools"].Items.Schema.MaxLength, mcpv1.MaxToolNameLength},
		{"status.oauth2.scopes maxItems", oauth2.Properties["scopes"].MaxItems, mcpv1.MaxScopes},
		{"status.oauth2.scopes[] maxLength", oauth2.Properties["scopes"].Items.Schema.MaxLength, mcpv1.MaxScopeLength},
		{"status.server.name maxLength", server.Properties["name"].MaxLength, mcpv1.MaxServerInfoLength},
		{"status.server.version maxLength", server.Properties["version"].MaxLength, mcpv1.MaxServerInfoLength},
		{"status.server.protocolVersion maxLength", server.Properties["protocolVersion"].MaxLength, mcpv1.MaxProtocolVersionLength},
	}
	for _, name := range []string{"issuer", "authorizationEndpoint", "tokenEndpoint", "registrationEndpoint",
		"revocationEndpoint", "resource", "resourceMetadataURL", "clientID", "redirectURI"} {
		checks = append(checks, struct {
			field string
			got   *int64
			want  int
		}{"status.oauth2." + name + " maxLength", oauth2.Properties[name].MaxLength, mcpv1.MaxURLLength})
	}
	for _, c := range checks {
		if c.got == nil || *c.got != int64(c.want) {
			t.Errorf("%s: CRD says %v, the exported bound %d", c.field, c.got, c.want)
		}
	}
}

// The OAuth library's failure reasons double as AuthConfigured reasons: each
// must be one the API declares.
func TestOAuthReasonsAreConditionReasons(t *testing.T) {
	declared := map[string]bool{
		mcpv1.ReasonDiscoveryFailed: true, mcpv1.ReasonIssuerMismatch: true, mcpv1.ReasonResourceMismatch: true,
		mcpv1.ReasonPKCEUnsupported: true, mcpv1.ReasonRegistrationUnsupported: true,
		mcpv1.ReasonRegistrationFailed: true, mcpv1.ReasonURLBlocked: true,
	}
	for _, r := range []oauth.Reason{oauth.ReasonDiscoveryFailed, oauth.ReasonIssuerMismatch, oauth.ReasonResourceMismatch,
		oauth.ReasonPKCEUnsupported, oauth.ReasonRegistrationUnsupported, oauth.ReasonRegistrationFailed, oauth.ReasonURLBlocked} {
		if !declared[string(r)] {
			t.Errorf("oauth.Reason %q is not a condition reason of api/v1alpha1", r)
		}
	}
}
