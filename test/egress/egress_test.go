package egress

import (
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

func condition(key client.ObjectKey, t string) func(Gomega) *metav1.Condition {
	return func(g Gomega) *metav1.Condition {
		s := &mcpv1.MCPServer{}
		g.Expect(k8sClient.Get(ctx, key, s)).To(Succeed())
		return meta.FindStatusCondition(s.Status.Conditions, t)
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	Expect(err).NotTo(HaveOccurred())
	return u.Host
}

var _ = Describe("An MCPServer behind an egress proxy and a private CA", func() {
	It("reaches Ready, every call tunnelled through the proxy and verified against spec.caBundleRef", func() {
		ca := fixture.NewCA()
		fake := fakeauth.New(fakeauth.Options{SeparateOrigins: true, TLS: ca.ServerTLS()})
		DeferCleanup(fake.Close)
		ns := newNamespace()
		Expect(k8sClient.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "corporate-ca"},
			Data:       map[string]string{"ca.crt": string(ca.PEM())},
		})).To(Succeed())
		server := fixture.MCPServer(ns, "behind-proxy", fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		server.Spec.CABundleRef = &mcpv1.CABundleSource{
			ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: "corporate-ca", Key: "ca.crt"},
		}
		Expect(k8sClient.Create(ctx, server)).To(Succeed())

		key := client.ObjectKeyFromObject(server)
		Eventually(condition(key, mcpv1.ConditionReady)).Should(And(
			Not(BeNil()), HaveField("Status", metav1.ConditionTrue), HaveField("Reason", mcpv1.ReasonReady)))
		Expect(condition(key, mcpv1.ConditionAuthConfigured)(Default)).To(HaveField("Reason", mcpv1.ReasonRegistered))
		Expect(condition(key, mcpv1.ConditionReachable)(Default)).To(HaveField("Reason", mcpv1.ReasonAuthorizationRequired))

		// Both origins (the MCP server and the authorization server) were
		// reached through the proxy, by their checked address, and the
		// operator dialled nothing but the proxy.
		Expect(proxy.Targets()).To(ContainElements(hostOf(fake.MCPURL()), hostOf(fake.IssuerURL())))
		Expect(dials.dialed()).NotTo(BeEmpty())
		Expect(dials.dialed()).To(HaveEach(proxy.Addr()))
		Expect(fake.Counters().Register).To(Equal(1))
	})

	It("never asks the proxy for a cloud metadata address", func() {
		ns := newNamespace()
		// The CRD admits this URL (the webhook, not installed here, would not).
		server := fixture.MCPServer(ns, "metadata", "https://169.254.169.254/mcp", fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		Expect(k8sClient.Create(ctx, server)).To(Succeed())
		Eventually(condition(client.ObjectKeyFromObject(server), mcpv1.ConditionAuthConfigured)).Should(And(
			Not(BeNil()), HaveField("Status", metav1.ConditionFalse), HaveField("Reason", mcpv1.ReasonURLBlocked)))
		Expect(proxy.Targets()).NotTo(ContainElement(ContainSubstring("169.254.169.254")))
	})
})
