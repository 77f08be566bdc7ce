package mcpserver_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

var _ = Describe("spec.caBundleRef", func() {
	// A server and authorization server behind a private CA the operator's
	// trust roots do not know.
	var (
		ca   *fixture.CA
		fake *fakeauth.Server
		ns   string
	)
	BeforeEach(func() {
		ca = fixture.NewCA()
		fake = newFake(fakeauth.Options{TLS: ca.ServerTLS()})
		ns = newNamespace()
	})
	configMap := func(name string, data string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"ca.crt": data}}
	}
	withBundle := func(name string, src mcpv1.CABundleSource) *mcpv1.MCPServer {
		s := newOAuth2Server(ns, name, fake.MCPURL())
		s.Spec.CABundleRef = &src
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		return s
	}
	fromConfigMap := mcpv1.CABundleSource{ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: "private-ca", Key: "ca.crt"}}
	fromSecret := mcpv1.CABundleSource{SecretKeyRef: &mcpv1.SecretKeySelector{Name: "private-ca", Key: "ca.crt"}}

	It("without it, the private CA's server is not trusted", func() {
		s := createOAuth2Server(ns, "untrusted", fake.MCPURL())
		Eventually(get(client.ObjectKeyFromObject(s))).Should(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonDiscoveryFailed))
		Expect(fake.Counters().Register).To(BeZero())
	})

	It("trusts the CA of a ConfigMap key for discovery, registration and the probe", func() {
		Expect(k8sClient.Create(ctx, configMap("private-ca", string(ca.PEM())))).To(Succeed())
		s := withBundle("trusted", fromConfigMap)
		Eventually(get(client.ObjectKeyFromObject(s))).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonRegistered),
			haveCondition(mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonAuthorizationRequired),
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady),
		))
		// The callback server and the refresher read it from the client Secret.
		clientSecret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: mcpv1.ClientSecretName(s.Name)}, clientSecret)).To(Succeed())
		Expect(clientSecret.Data).To(HaveKeyWithValue(mcpv1.ClientKeyCABundle, ca.PEM()))
	})

	It("names the field when the ConfigMap holds no certificate", func() {
		cm := configMap("private-ca", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		Expect(k8sClient.Create(ctx, cm)).To(Succeed())
		s := withBundle("bad-pem", fromConfigMap)
		Eventually(get(client.ObjectKeyFromObject(s))).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonCABundleInvalid),
			WithTransform(func(s *mcpv1.MCPServer) string { return condition(s, mcpv1.ConditionAuthConfigured).Message },
				And(ContainSubstring("spec.caBundleRef.configMapKeyRef"), ContainSubstring(`key "ca.crt"`), ContainSubstring("PRIVATE KEY"))),
		))
		Expect(fake.Counters().Register).To(BeZero())
	})

	It("reports a missing ConfigMap", func() {
		s := withBundle("missing", fromConfigMap)
		Eventually(get(client.ObjectKeyFromObject(s))).Should(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonCABundleNotFound))
	})

	It("reads a Secret only when it is opted in", func() {
		secret := fixture.CredentialSecret(ns, "private-ca", map[string]string{"ca.crt": string(ca.PEM())})
		delete(secret.Labels, mcpv1.LabelCredential)
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		s := withBundle("secret", fromSecret)
		Eventually(get(client.ObjectKeyFromObject(s))).Should(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretNotOptedIn))

		// Labelling the Secret wakes the server (the Secret watch) and it becomes Ready.
		secret.Labels = map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue}
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(get(client.ObjectKeyFromObject(s))).Should(
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))
	})
})
