package webhooks_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

const reRegisters = "the operator will re-register it and every connected user is disconnected and must connect again"

var _ = Describe("Admission warnings", func() {
	BeforeEach(func() { warnings.take() })

	Describe("for referenced Secrets (GitOps applies in any order)", func() {
		It("admits an API key Secret that does not exist yet, with a warning", func() {
			s := validServer(newNamespace(nil))
			withAPIKeyHeader("X-API-Key")(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(ContainSubstring(
				`spec.auth.apiKey.secretKeyRef: Secret "api-key" does not exist in namespace "` + s.Namespace + `" yet`)))
		})

		It("admits a headers Secret that does not exist yet, with a warning", func() {
			s := validServer(newNamespace(nil))
			withHeadersSecret(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(ContainSubstring(`spec.auth.headers.secretRef: Secret "headers" does not exist`)))
		})

		It("admits a missing OAuth2 client Secret, with a warning", func() {
			s := validServer(newNamespace(nil))
			preRegistered(func(o *mcpv1.OAuth2Auth) {
				o.ClientSecretRef = &mcpv1.SecretKeySelector{Name: "oauth-client", Key: "secret"}
			})(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(ContainSubstring(`spec.auth.oauth2.clientSecretRef: Secret "oauth-client" does not exist`)))
		})

		It("admits a missing caBundleRef Secret, with a warning", func() {
			s := validServer(newNamespace(nil))
			s.Spec.CABundleRef = &mcpv1.CABundleSource{SecretKeyRef: &mcpv1.SecretKeySelector{Name: "private-ca", Key: "ca.crt"}}
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(ContainSubstring(`spec.caBundleRef.secretKeyRef: Secret "private-ca" does not exist`)))
		})

		It("warns when the Secret exists without the key", func() {
			ns := newNamespace(nil)
			createSecret(ns, "api-key", map[string]string{"other": "x"})
			s := validServer(ns)
			withAPIKeyHeader("X-API-Key")(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(ContainSubstring(`Secret "api-key" has no key "key" yet`)))
		})

		It("warns when the Secret is not opted in, without looking into it", func() {
			ns := newNamespace(nil)
			createSecretOf(ns, "headers", corev1.SecretTypeOpaque, nil, map[string]string{"Host": "evil.example"})
			warnings.take()
			s := validServer(ns)
			withHeadersSecret(s)
			// Admitted although key "Host" is no usable header: the key
			// names of a Secret not meant for MCPServers are not echoed.
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(And(
				ContainSubstring(`spec.auth.headers.secretRef: Secret "headers" is not labelled mcpoperator.io/credential=true`),
				ContainSubstring("kubectl label secret -n "+ns+" headers mcpoperator.io/credential=true"),
				Not(ContainSubstring("Host")),
			)))
		})

		It("stays quiet when the Secret and key exist", func() {
			ns := newNamespace(nil)
			createSecret(ns, "api-key", map[string]string{"key": "x"})
			warnings.take()
			s := validServer(ns)
			withAPIKeyHeader("X-API-Key")(s)
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(BeEmpty())
		})
	})

	Describe("for deprecated fields", func() {
		It("warns that omitResourceOnRefresh is deprecated, naming its replacement", func() {
			s := validServer(newNamespace(nil))
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{OmitResourceOnRefresh: true}}
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(And(ContainSubstring("spec.auth.oauth2.omitResourceOnRefresh is deprecated"),
				ContainSubstring("resourceIndicator.send: ExceptRefresh"))))
		})

		It("stays quiet for resourceIndicator", func() {
			s := validServer(newNamespace(nil))
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
				ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorExceptRefresh}}}
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(BeEmpty())
		})
	})

	Describe("for updates that re-register an OAuth client", func() {
		// oauthServer creates an auto-registering OAuth2 server.
		oauthServer := func() *mcpv1.MCPServer {
			s := validServer(newNamespace(nil))
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			return s
		}
		registerInStatus := func(s *mcpv1.MCPServer) {
			s.Status.OAuth2 = &mcpv1.OAuth2Status{ClientID: "client-abc", Registration: mcpv1.RegistrationDCR}
			Expect(k8sClient.Status().Update(ctx, s)).To(Succeed())
		}

		It("warns when url changes on a server whose status names a client", func() {
			s := oauthServer()
			registerInStatus(s)
			warnings.take()
			s.Spec.URL = "https://mcp2.example.com/mcp"
			Expect(k8sClient.Update(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(And(ContainSubstring("spec.url changed"), ContainSubstring(reRegisters))))
		})

		It("warns when the auth type changes on a server whose client Secret exists", func() {
			s := oauthServer()
			createSecret(s.Namespace, mcpv1.ClientSecretName(s.Name), map[string]string{mcpv1.ClientKeyClientID: "client-abc"})
			warnings.take()
			s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeNone}
			Expect(k8sClient.Update(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(ConsistOf(And(ContainSubstring("spec.auth.type changed"), ContainSubstring(reRegisters))))
		})

		It("does not warn for a server without a registration", func() {
			s := oauthServer()
			warnings.take()
			s.Spec.URL = "https://mcp2.example.com/mcp"
			Expect(k8sClient.Update(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(BeEmpty())
		})

		It("does not warn for other changes to a registered server", func() {
			s := oauthServer()
			registerInStatus(s)
			warnings.take()
			s.Spec.DisplayName = "Renamed"
			Expect(k8sClient.Update(ctx, s)).To(Succeed())
			Expect(warnings.take()).To(BeEmpty())
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			Expect(s.Spec.DisplayName).To(Equal("Renamed"))
		})
	})
})
