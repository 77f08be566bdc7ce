package e2e

import (
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/connectproxy"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// An enterprise network: the manager reaches the outside only through an
// HTTP CONNECT proxy (--egress-proxy), and the server's certificates are
// signed by a private CA (spec.caBundleRef). Both are the test's own, on
// loopback.
var _ = Describe("Behind an egress proxy, with a private CA", Ordered, func() {
	var proxy *connectproxy.Proxy

	BeforeAll(func() {
		proxy = connectproxy.New()
		DeferCleanup(proxy.Close)
		Expect(manager.Stop(10 * time.Second)).To(Succeed())
		startManager("--egress-proxy=" + proxy.URL())
		DeferCleanup(func() {
			Expect(manager.Stop(10 * time.Second)).To(Succeed())
			startManager()
		})
	})

	It("an OAuth2 MCPServer reaches Ready, its calls tunnelled through the proxy", func() {
		ca := fixture.NewCA()
		private, err := fakeauth.Start(fakeauth.Options{SeparateOrigins: true, TLS: ca.ServerTLS()}, "127.0.0.1:0", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(private.Close)
		bundle := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "corporate-ca"},
			Data:       map[string]string{"ca.crt": string(ca.PEM())},
		}
		Expect(k8s.Create(ctx, bundle)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, bundle))).To(Succeed()) })

		s := fixture.MCPServer(namespace, "behind-proxy", private.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		s.Spec.CABundleRef = &mcpv1.CABundleSource{ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: bundle.Name, Key: "ca.crt"}}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { deleteServer(s) })

		got, err := harness.WaitMCPServer(ctx, k8s, client.ObjectKeyFromObject(s), time.Minute, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Status.OAuth2.Registration).To(Equal(mcpv1.RegistrationDCR))
		Expect(private.Counters().Register).To(Equal(1))

		// The manager asked the proxy for both origins, by their checked
		// addresses (the URLs name 127.0.0.1 itself).
		hostOf := func(raw string) string { u, err := url.Parse(raw); Expect(err).NotTo(HaveOccurred()); return u.Host }
		Expect(proxy.Targets()).To(ContainElements(hostOf(private.MCPURL()), hostOf(private.IssuerURL())))
	})
})
