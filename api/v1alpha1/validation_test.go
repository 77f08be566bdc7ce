package v1alpha1_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

var serial int

// validServer is the smallest valid object; each case breaks one thing.
func validServer() *mcpv1.MCPServer {
	serial++
	return &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("server-%d", serial), Namespace: "default"},
		Spec: mcpv1.MCPServerSpec{
			DisplayName: "Example",
			URL:         "https://mcp.example.com/mcp",
		},
	}
}

func secretKey(name, key string) mcpv1.SecretKeySelector {
	return mcpv1.SecretKeySelector{Name: name, Key: key}
}

var _ = Describe("MCPServer validation", func() {
	DescribeTable("rejects invalid objects, naming the offending field",
		func(mutate func(*mcpv1.MCPServer), field string, says string) {
			s := validServer()
			mutate(s)
			err := k8sClient.Create(ctx, s)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(says))
		},
		Entry("missing displayName", func(s *mcpv1.MCPServer) { s.Spec.DisplayName = "" },
			"spec.displayName", "at least 1 chars long"),
		Entry("displayName too long", func(s *mcpv1.MCPServer) { s.Spec.DisplayName = strings.Repeat("x", 129) },
			"spec.displayName", "128"),
		Entry("missing url", func(s *mcpv1.MCPServer) { s.Spec.URL = "" },
			"spec.url", "at least 1 chars long"),
		Entry("url that is not a URL", func(s *mcpv1.MCPServer) { s.Spec.URL = "not a url" },
			"spec.url", "absolute http or https URL"),
		Entry("relative url", func(s *mcpv1.MCPServer) { s.Spec.URL = "/mcp" },
			"spec.url", "absolute http or https URL"),
		Entry("ftp url", func(s *mcpv1.MCPServer) { s.Spec.URL = "ftp://example.com/mcp" },
			"spec.url", "absolute http or https URL"),
		Entry("url too long", func(s *mcpv1.MCPServer) { s.Spec.URL = "https://x.example/" + strings.Repeat("a", 2048) },
			"spec.url", "2048"),
		Entry("plain http iconURL", func(s *mcpv1.MCPServer) { s.Spec.IconURL = "http://example.com/i.png" },
			"spec.iconURL", "https URL"),
		Entry("unknown transport", func(s *mcpv1.MCPServer) { s.Spec.Transport = "WebSocket" },
			"spec.transport", "StreamableHTTP"),
		Entry("caBundleRef naming nothing", func(s *mcpv1.MCPServer) { s.Spec.CABundleRef = &mcpv1.CABundleSource{} },
			"spec.caBundleRef", "exactly one of configMapKeyRef and secretKeyRef"),
		Entry("caBundleRef naming both", func(s *mcpv1.MCPServer) {
			sk := secretKey("ca", "ca.crt")
			s.Spec.CABundleRef = &mcpv1.CABundleSource{SecretKeyRef: &sk,
				ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: "ca", Key: "ca.crt"}}
		}, "spec.caBundleRef", "exactly one of configMapKeyRef and secretKeyRef"),
		Entry("caBundleRef ConfigMap key with a slash", func(s *mcpv1.MCPServer) {
			s.Spec.CABundleRef = &mcpv1.CABundleSource{ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: "ca", Key: "a/b"}}
		}, "spec.caBundleRef.configMapKeyRef.key", "should match"),
		Entry("unknown availability", func(s *mcpv1.MCPServer) { s.Spec.Availability = "Sometimes" },
			"spec.availability", "DefaultOff"),
		Entry("unknown auth type", func(s *mcpv1.MCPServer) { s.Spec.Auth.Type = "Basic" },
			"spec.auth.type", "OAuth2"),
		Entry("OAuth2 without its block", func(s *mcpv1.MCPServer) { s.Spec.Auth.Type = mcpv1.AuthTypeOAuth2 },
			"spec.auth", "auth.oauth2 must be set"),
		Entry("APIKey without its block", func(s *mcpv1.MCPServer) { s.Spec.Auth.Type = mcpv1.AuthTypeAPIKey },
			"spec.auth", "auth.apiKey must be set"),
		Entry("Headers without its block", func(s *mcpv1.MCPServer) { s.Spec.Auth.Type = mcpv1.AuthTypeHeaders },
			"spec.auth", "auth.headers must be set"),
		Entry("UserOIDC without its block", func(s *mcpv1.MCPServer) { s.Spec.Auth.Type = mcpv1.AuthTypeUserOIDC },
			"spec.auth", "auth.userOIDC must be set"),
		Entry("None with an apiKey block", func(s *mcpv1.MCPServer) {
			s.Spec.Auth.APIKey = &mcpv1.APIKeyAuth{Header: "X-API-Key", SecretKeyRef: secretKey("k", "key")}
		}, "spec.auth", "absent otherwise"),
		Entry("OAuth2 with a stray headers block", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{},
				Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "h"}}}
		}, "spec.auth", "auth.headers must be set when auth.type is Headers"),
		Entry("OAuth2 with clientID only", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{ClientID: "abc"}}
		}, "spec.auth.oauth2", "or none of them to let the operator discover and register"),
		Entry("OAuth2 with endpoints but no clientID", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AuthorizationURL: "https://as.example/authorize", TokenURL: "https://as.example/token"}}
		}, "spec.auth.oauth2", "set all of clientID, authorizationURL and tokenURL"),
		Entry("OAuth2 clientSecretRef without clientID", func(s *mcpv1.MCPServer) {
			ref := secretKey("oauth", "secret")
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{ClientSecretRef: &ref}}
		}, "spec.auth.oauth2", "clientSecretRef is only used with a pre-registered client"),
		Entry("OAuth2 tokenURL that is not a URL", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ClientID: "abc", AuthorizationURL: "https://as.example/authorize", TokenURL: "token"}}
		}, "spec.auth.oauth2.tokenURL", "absolute http or https URL"),
		Entry("OAuth2 authorizationURL without a host", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ClientID: "abc", AuthorizationURL: "https:///authorize", TokenURL: "https://as.example/token"}}
		}, "spec.auth.oauth2.authorizationURL", "with a host"),
		Entry("OAuth2 issuer with a query", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{Issuer: "https://as.example/?tenant=x"}}
		}, "spec.auth.oauth2.issuer", "no query or fragment"),
		Entry("OAuth2 relative issuer", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{Issuer: "/tenant"}}
		}, "spec.auth.oauth2.issuer", "RFC 8414 issuer identifier"),
		Entry("iconURL without a host", func(s *mcpv1.MCPServer) { s.Spec.IconURL = "https:///i.png" },
			"spec.iconURL", "with a host"),
		Entry("too many OAuth2 scopes", func(s *mcpv1.MCPServer) {
			scopes := make([]string, 65)
			for i := range scopes {
				scopes[i] = fmt.Sprintf("s%d", i)
			}
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{Scopes: scopes}}
		}, "spec.auth.oauth2.scopes", "64"),
		Entry("OAuth2 omitResourceOnRefresh with resourceIndicator.send Always", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true,
				ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorAlways}}}
		}, "spec.auth.oauth2", "omitResourceOnRefresh: true means resourceIndicator.send: ExceptRefresh"),
		Entry("OAuth2 omitResourceOnRefresh with resourceIndicator.send Never", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true,
				ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorNever}}}
		}, "spec.auth.oauth2", "remove omitResourceOnRefresh or make send ExceptRefresh"),
		Entry("OAuth2 unknown resourceIndicator.send", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ResourceIndicator: &mcpv1.ResourceIndicator{Send: "OnTuesdays"}}}
		}, "spec.auth.oauth2.resourceIndicator.send", "ExceptRefresh"),
		Entry("OAuth2 relative resourceIndicator.value", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ResourceIndicator: &mcpv1.ResourceIndicator{Value: "/mcp"}}}
		}, "spec.auth.oauth2.resourceIndicator.value", "absolute URI without a fragment"),
		Entry("OAuth2 resourceIndicator.value with a fragment", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ResourceIndicator: &mcpv1.ResourceIndicator{Value: "api://app-id#frag"}}}
		}, "spec.auth.oauth2.resourceIndicator.value", "absolute URI without a fragment"),
		Entry("OAuth2 resourceIndicator.value too long", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ResourceIndicator: &mcpv1.ResourceIndicator{Value: "https://x.example/" + strings.Repeat("a", 2048)}}}
		}, "spec.auth.oauth2.resourceIndicator.value", "2048"),
		Entry("OAuth2 additionalAuthorizationParameters key with a space", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"access type": "offline"}}}
		}, "spec.auth.oauth2.additionalAuthorizationParameters", "RFC 6749 parameter names"),
		Entry("OAuth2 additionalAuthorizationParameters key too long", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{strings.Repeat("k", 65): "v"}}}
		}, "spec.auth.oauth2.additionalAuthorizationParameters", "1 to 64"),
		Entry("OAuth2 additionalAuthorizationParameters value too long", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"audience": mcpv1.AuthorizationParameterValue(strings.Repeat("v", 513))}}}
		}, "spec.auth.oauth2.additionalAuthorizationParameters.audience", "512"),
		Entry("OAuth2 too many additionalAuthorizationParameters", func(s *mcpv1.MCPServer) {
			params := map[string]mcpv1.AuthorizationParameterValue{}
			for i := range 17 {
				params[fmt.Sprintf("p%d", i)] = "v"
			}
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{AdditionalAuthorizationParameters: params}}
		}, "spec.auth.oauth2.additionalAuthorizationParameters", "16"),
		Entry("OAuth2 additionalAuthorizationParameters setting scope in another case", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"prompt": "consent", "Scope": "admin"}}}
		}, "spec.auth.oauth2.additionalAuthorizationParameters", "may not set scope: the operator sets it itself from scopes"),
		Entry("APIKey header with a space", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey,
				APIKey: &mcpv1.APIKeyAuth{Header: "X API Key", SecretKeyRef: secretKey("k", "key")}}
		}, "spec.auth.apiKey.header", "should match"),
		Entry("APIKey without a Secret name", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey,
				APIKey: &mcpv1.APIKeyAuth{Header: "X-API-Key", SecretKeyRef: secretKey("", "key")}}
		}, "spec.auth.apiKey.secretKeyRef.name", "at least 1"),
		Entry("APIKey Secret name that is not a DNS name", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey,
				APIKey: &mcpv1.APIKeyAuth{Header: "X-API-Key", SecretKeyRef: secretKey("Bad_Name", "key")}}
		}, "spec.auth.apiKey.secretKeyRef.name", "should match"),
		Entry("Headers without a Secret name", func(s *mcpv1.MCPServer) {
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeHeaders, Headers: &mcpv1.HeadersAuth{}}
		}, "spec.auth.headers.secretRef.name", "at least 1"),
		Entry("duplicate denied tool", func(s *mcpv1.MCPServer) {
			s.Spec.Tools = &mcpv1.ToolFilter{Deny: []string{"rm", "rm"}}
		}, "spec.tools.deny", "Duplicate value"),
		Entry("too many allowed tools", func(s *mcpv1.MCPServer) {
			allow := make([]string, 257)
			for i := range allow {
				allow[i] = fmt.Sprintf("t%d", i)
			}
			s.Spec.Tools = &mcpv1.ToolFilter{Allow: allow}
		}, "spec.tools.allow", "256"),
		Entry("name longer than 63 characters", func(s *mcpv1.MCPServer) { s.Name = strings.Repeat("n", 64) },
			"metadata.name", "at most 63 characters"),
	)

	It("accepts a minimal server and applies the defaults", func() {
		s := validServer()
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		Expect(s.Spec.Transport).To(Equal(mcpv1.DefaultTransport))
		Expect(s.Spec.Availability).To(Equal(mcpv1.DefaultAvailability))
		Expect(s.Spec.Enabled).NotTo(BeNil())
		Expect(*s.Spec.Enabled).To(Equal(mcpv1.DefaultEnabled))
		Expect(s.Spec.Auth.Type).To(Equal(mcpv1.DefaultAuthType))
	})

	DescribeTable("accepts valid auth configurations",
		func(auth mcpv1.Auth) {
			s := validServer()
			s.Spec.Auth = auth
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		},
		Entry("OAuth2 to discover and register", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}),
		Entry("OAuth2 with empty strings, as in the brief's sketch", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2,
			OAuth2: &mcpv1.OAuth2Auth{ClientID: "", AuthorizationURL: "", TokenURL: ""}}),
		Entry("OAuth2 pre-registered", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
			ClientID: "abc", AuthorizationURL: "https://as.example/authorize", TokenURL: "https://as.example/token",
			ClientSecretRef: &mcpv1.SecretKeySelector{Name: "oauth", Key: "secret"}}}),
		Entry("OAuth2 for Entra ID: no resource, an api:// scope, Google-style parameters", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2,
			OAuth2: &mcpv1.OAuth2Auth{Scopes: []string{"api://00000000-0000-0000-0000-000000000000/.default"},
				ResourceIndicator:                 &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorNever},
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"prompt": "consent", "access_type": "offline", "audience": "https://api.example.com"}}}),
		Entry("OAuth2 with an api:// resource value", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
			ResourceIndicator: &mcpv1.ResourceIndicator{Value: "api://00000000-0000-0000-0000-000000000000"}}}),
		Entry("OAuth2 with a URN resource value and ExceptRefresh", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
			ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorExceptRefresh, Value: "urn:example:mcp"}}}),
		Entry("OAuth2 deprecated omitResourceOnRefresh alone", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true}}),
		Entry("OAuth2 omitResourceOnRefresh with send ExceptRefresh", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true,
			ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorExceptRefresh}}}),
		Entry("OAuth2 omitResourceOnRefresh with only a resource value", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true,
			ResourceIndicator: &mcpv1.ResourceIndicator{Value: "api://app"}}}),
		Entry("APIKey", mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey,
			APIKey: &mcpv1.APIKeyAuth{Header: "X-API-Key", SecretKeyRef: secretKey("k", "api.key")}}),
		Entry("Headers", mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
			Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "h"}}}),
		Entry("UserOIDC", mcpv1.Auth{Type: mcpv1.AuthTypeUserOIDC, UserOIDC: &mcpv1.UserOIDCAuth{}}),
	)

	// The CRD refuses each parameter the flow sets itself, as the OAuth
	// library filters them: one list, held together here.
	It("refuses every reserved authorization parameter, naming it", func() {
		for _, k := range oauth.ReservedAuthorizationParameters {
			s := validServer()
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{k: "x"}}}
			err := k8sClient.Create(ctx, s)
			Expect(err).To(HaveOccurred(), "%s was admitted", k)
			Expect(err.Error()).To(ContainSubstring("additionalAuthorizationParameters may not set " + k + ":"))
			Expect(err.Error()).To(ContainSubstring("spec.auth.oauth2.additionalAuthorizationParameters"))
		}
	})
})
