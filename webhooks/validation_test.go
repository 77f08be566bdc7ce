package webhooks_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// deniedByWebhook is how the API server prefixes the validating webhook's
// answer: every case below must get past the CRD schema and CEL and be
// stopped by the webhook.
const deniedByWebhook = `admission webhook "vmcpserver.mcpoperator.io" denied the request`

// invalidCase breaks one rule; headers, when set, is created first as the
// data of the Secret "headers" (the Headers auth type's Secret).
type invalidCase struct {
	mutate  func(*mcpv1.MCPServer)
	headers map[string]string
	field   string
	says    string
}

func withURL(u string) func(*mcpv1.MCPServer) {
	return func(s *mcpv1.MCPServer) { s.Spec.URL = u }
}

// preRegistered is a valid pre-registered OAuth2 client; change sets one field.
func preRegistered(change func(*mcpv1.OAuth2Auth)) func(*mcpv1.MCPServer) {
	return func(s *mcpv1.MCPServer) {
		o := &mcpv1.OAuth2Auth{ClientID: "client-1",
			AuthorizationURL: "https://as.example.com/authorize", TokenURL: "https://as.example.com/token"}
		change(o)
		s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: o}
	}
}

func withScopes(scopes ...string) func(*mcpv1.MCPServer) {
	return func(s *mcpv1.MCPServer) {
		s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{Scopes: scopes}}
	}
}

func withAPIKeyHeader(h string) func(*mcpv1.MCPServer) {
	return func(s *mcpv1.MCPServer) {
		s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeAPIKey, APIKey: &mcpv1.APIKeyAuth{
			Header: h, SecretKeyRef: mcpv1.SecretKeySelector{Name: "api-key", Key: "key"}}}
	}
}

func withHeadersSecret(s *mcpv1.MCPServer) {
	s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
		Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "headers"}}}
}

func withTools(allow, deny []string) func(*mcpv1.MCPServer) {
	return func(s *mcpv1.MCPServer) { s.Spec.Tools = &mcpv1.ToolFilter{Allow: allow, Deny: deny} }
}

const (
	useHTTPS   = "plain http is only allowed for loopback hosts"
	noUserInfo = "must not contain user info (user:password@): remove it"
	noFragment = "must not have a fragment (#...): remove it"
	badScope   = "is not a valid OAuth scope"
	breaksReqs = "would break requests: use another header"
	renameKey  = "rename or remove that key in the Secret"
)

var _ = Describe("The validating webhook", func() {
	DescribeTable("rejects objects CEL lets through, naming the field and saying what to do",
		func(c invalidCase) {
			ns := newNamespace(nil)
			if c.headers != nil {
				createSecret(ns, "headers", c.headers)
			}
			s := validServer(ns)
			c.mutate(s)
			err := k8sClient.Create(ctx, s)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			Expect(apierrors.IsInvalid(err) || apierrors.IsForbidden(err)).To(BeTrue(), "unexpected error kind: %v", err)
			Expect(err.Error()).To(ContainSubstring(deniedByWebhook))
			Expect(err.Error()).To(ContainSubstring(c.field + ":"))
			Expect(err.Error()).To(ContainSubstring(c.says))
			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), &mcpv1.MCPServer{}))).To(BeTrue())
		},
		// spec.url
		Entry("url with user and password", invalidCase{mutate: withURL("https://user:pw@mcp.example.com/mcp"), field: "spec.url", says: noUserInfo}),
		Entry("url with a user only", invalidCase{mutate: withURL("https://token@mcp.example.com/mcp"), field: "spec.url", says: noUserInfo}),
		Entry("url with a fragment", invalidCase{mutate: withURL("https://mcp.example.com/mcp#tools"), field: "spec.url", says: noFragment}),
		Entry("url with an empty fragment", invalidCase{mutate: withURL("https://mcp.example.com/mcp#"), field: "spec.url", says: noFragment}),
		Entry("plain http to a public host", invalidCase{mutate: withURL("http://mcp.example.com/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to a private address", invalidCase{mutate: withURL("http://10.0.0.7:8080/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to 0.0.0.0", invalidCase{mutate: withURL("http://0.0.0.0/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to a non-loopback IPv6 address", invalidCase{mutate: withURL("http://[2001:db8::1]/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to a look-alike of localhost", invalidCase{mutate: withURL("http://localhost.example.com/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to a look-alike of a Service", invalidCase{mutate: withURL("http://mcp.tools.svc.example.com/mcp"), field: "spec.url", says: useHTTPS}),
		Entry("plain http to a short Service name", invalidCase{mutate: withURL("http://mcp.tools/mcp"), field: "spec.url", says: "<service>.<namespace>.svc"}),
		// OAuth2 endpoints
		Entry("plain http authorizationURL", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.AuthorizationURL = "http://as.example.com/authorize" }),
			field: "spec.auth.oauth2.authorizationURL", says: useHTTPS}),
		Entry("authorizationURL with a fragment", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.AuthorizationURL = "https://as.example.com/authorize#x" }),
			field: "spec.auth.oauth2.authorizationURL", says: noFragment}),
		Entry("tokenURL with user info", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.TokenURL = "https://client:pw@as.example.com/token" }),
			field: "spec.auth.oauth2.tokenURL", says: noUserInfo}),
		Entry("tokenURL with a fragment", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.TokenURL = "https://as.example.com/token#x" }),
			field: "spec.auth.oauth2.tokenURL", says: noFragment}),
		Entry("issuer with user info", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.Issuer = "https://client:pw@as.example.com" }),
			field: "spec.auth.oauth2.issuer", says: noUserInfo}),
		Entry("plain http tokenURL to a private address", invalidCase{mutate: preRegistered(func(o *mcpv1.OAuth2Auth) { o.TokenURL = "http://192.168.1.5/token" }),
			field: "spec.auth.oauth2.tokenURL", says: useHTTPS}),
		// scopes
		Entry("two scopes in one entry", invalidCase{mutate: withScopes("read write"), field: "spec.auth.oauth2.scopes[0]", says: "list each scope as its own entry"}),
		Entry("a scope with a double quote", invalidCase{mutate: withScopes("openid", `read"all`), field: "spec.auth.oauth2.scopes[1]", says: badScope}),
		Entry("a scope with a backslash", invalidCase{mutate: withScopes(`domain\user`), field: "spec.auth.oauth2.scopes[0]", says: badScope}),
		Entry("a non-ASCII scope", invalidCase{mutate: withScopes("lesen✓"), field: "spec.auth.oauth2.scopes[0]", says: badScope}),
		Entry("an empty scope", invalidCase{mutate: withScopes("openid", "  "), field: "spec.auth.oauth2.scopes[1]", says: "remove the empty entry"}),
		Entry("a duplicate scope", invalidCase{mutate: withScopes("openid", "profile", " openid"), field: "spec.auth.oauth2.scopes[2]", says: "remove the duplicate"}),
		// the API key header
		Entry("API key in Host", invalidCase{mutate: withAPIKeyHeader("Host"), field: "spec.auth.apiKey.header", says: breaksReqs}),
		Entry("API key in host (any case)", invalidCase{mutate: withAPIKeyHeader("host"), field: "spec.auth.apiKey.header", says: "Host is set by the HTTP client"}),
		Entry("API key in Content-Length", invalidCase{mutate: withAPIKeyHeader("Content-Length"), field: "spec.auth.apiKey.header", says: breaksReqs}),
		Entry("API key in Transfer-Encoding", invalidCase{mutate: withAPIKeyHeader("Transfer-Encoding"), field: "spec.auth.apiKey.header", says: breaksReqs}),
		Entry("API key in Connection", invalidCase{mutate: withAPIKeyHeader("Connection"), field: "spec.auth.apiKey.header", says: breaksReqs}),
		Entry("API key in Mcp-Session-Id", invalidCase{mutate: withAPIKeyHeader("Mcp-Session-Id"), field: "spec.auth.apiKey.header", says: breaksReqs}),
		Entry("API key in Authorization", invalidCase{mutate: withAPIKeyHeader("Authorization"), field: "spec.auth.apiKey.header",
			says: "use auth.type Headers with a Secret whose Authorization key holds the whole value"}),
		// keys of the headers Secret
		Entry("headers Secret with a Host key", invalidCase{mutate: withHeadersSecret, headers: map[string]string{"X-Tenant": "a", "Host": "evil.example.com"},
			field: "spec.auth.headers.secretRef.name", says: renameKey}),
		Entry("headers Secret with a Content-Length key", invalidCase{mutate: withHeadersSecret, headers: map[string]string{"Content-Length": "0"},
			field: "spec.auth.headers.secretRef.name", says: `key "Content-Length" of Secret "headers"`}),
		Entry("headers Secret with a Transfer-Encoding key", invalidCase{mutate: withHeadersSecret, headers: map[string]string{"transfer-encoding": "chunked"},
			field: "spec.auth.headers.secretRef.name", says: renameKey}),
		Entry("headers Secret with a Connection key", invalidCase{mutate: withHeadersSecret, headers: map[string]string{"Connection": "close"},
			field: "spec.auth.headers.secretRef.name", says: renameKey}),
		// tools
		Entry("a tool both allowed and denied", invalidCase{mutate: withTools([]string{"search", "delete"}, []string{"delete"}),
			field: "spec.tools.allow[1]", says: "deny would win and it would never be offered: remove it from allow or from deny"}),
		Entry("a tool allowed and denied after trimming", invalidCase{mutate: withTools([]string{" fetch "}, []string{"fetch"}),
			field: "spec.tools.allow[0]", says: "deny would win"}),
		Entry("two tool names in one allow entry", invalidCase{mutate: withTools([]string{"read file"}, nil),
			field: "spec.tools.allow[0]", says: "list each tool as its own entry"}),
		Entry("a tool name with a control character", invalidCase{mutate: withTools(nil, []string{"rm\x07"}),
			field: "spec.tools.deny[0]", says: "must not contain spaces or control characters"}),
	)

	DescribeTable("refuses a reference to a Secret no MCPServer may use, labelled or not, without naming its keys",
		func(typ corev1.SecretType) {
			ns := newNamespace(nil)
			createSecretOf(ns, "headers", typ, map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue},
				map[string]string{"X-Hidden-Key": "x"})
			s := validServer(ns)
			withHeadersSecret(s)
			err := k8sClient.Create(ctx, s)
			Expect(err).To(HaveOccurred(), "the API server accepted a reference to a %s Secret", typ)
			Expect(err.Error()).To(And(
				ContainSubstring(deniedByWebhook),
				ContainSubstring("spec.auth.headers.secretRef.name: Forbidden"),
				ContainSubstring("is of type "+string(typ)+", which an MCPServer may never reference"),
				Not(ContainSubstring("X-Hidden-Key")),
			))
		},
		Entry("a user's token Secret", mcpv1.SecretTypeUserToken),
		Entry("an OAuth client Secret", mcpv1.SecretTypeOAuth2Client),
	)

	It("reports every broken rule at once", func() {
		s := validServer(newNamespace(nil))
		s.Spec.URL = "http://mcp.example.com/mcp#x"
		s.Spec.Tools = &mcpv1.ToolFilter{Allow: []string{"a"}, Deny: []string{"a"}}
		err := k8sClient.Create(ctx, s)
		Expect(err).To(HaveOccurred())
		for _, says := range []string{"spec.url: Invalid value", noFragment, useHTTPS, "spec.tools.allow[0]"} {
			Expect(err.Error()).To(ContainSubstring(says))
		}
	})

	It("never echoes user info, query or fragment of a rejected URL", func() {
		s := validServer(newNamespace(nil))
		s.Spec.URL = "https://alice:s3cr3t@mcp.example.com/mcp?access_token=t0k3n#s3ction"
		err := k8sClient.Create(ctx, s)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`"https://mcp.example.com/mcp"`))
		for _, secret := range []string{"alice", "s3cr3t", "t0k3n", "s3ction"} {
			Expect(err.Error()).NotTo(ContainSubstring(secret))
		}
	})

	It("rejects an update that breaks a rule", func() {
		s := validServer(newNamespace(nil))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		s.Spec.URL = "http://mcp.example.com/mcp"
		err := k8sClient.Update(ctx, s)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(deniedByWebhook))
		Expect(err.Error()).To(ContainSubstring(useHTTPS))
	})

	DescribeTable("admits valid objects",
		func(mutate func(*mcpv1.MCPServer), headers map[string]string) {
			ns := newNamespace(nil)
			if headers != nil {
				createSecret(ns, "headers", headers)
			}
			s := validServer(ns)
			mutate(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		},
		Entry("plain http on 127.0.0.1", withURL("http://127.0.0.1:8080/mcp"), nil),
		Entry("plain http on [::1]", withURL("http://[::1]:8080/mcp"), nil),
		Entry("plain http on localhost", withURL("http://localhost:8080/mcp"), nil),
		Entry("plain http to a Service", withURL("http://mcp.tools.svc:8080/mcp"), nil),
		Entry("plain http to a Service's full name", withURL("http://mcp.tools.svc.cluster.local/mcp"), nil),
		Entry("an https URL with a query", withURL("https://mcp.example.com/mcp?tenant=a"), nil),
		Entry("URL-like and colon scopes", withScopes("openid", "https://graph.microsoft.com/.default", "repo:read"), nil),
		Entry("an API key in X-API-Key", withAPIKeyHeader("X-API-Key"), nil),
		Entry("Authorization in the headers Secret", withHeadersSecret, map[string]string{"Authorization": "Bearer x", "X-Tenant": "a"}),
		Entry("a tool name at the 128-character bound", withTools([]string{strings.Repeat("t", 128)}, []string{"delete"}), nil),
	)
})
