package e2e

import (
	"crypto/x509"
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

// An enterprise network: the manager and the callback server reach the
// outside only through an HTTP CONNECT proxy (--egress-proxy), and the
// server's certificates are signed by a private CA (spec.caBundleRef). Both
// are the test's own, on loopback.
var _ = Describe("Behind an egress proxy, with a private CA", Ordered, func() {
	const name = "behind-proxy"
	var (
		proxy   *connectproxy.Proxy
		ca      *fixture.CA
		private *fakeauth.Server
		key     client.ObjectKey
	)
	hostOf := func(raw string) string {
		u, err := url.Parse(raw)
		Expect(err).NotTo(HaveOccurred())
		return u.Host
	}
	// asked counts the CONNECTs for the authorization server's origin.
	asked := func() int {
		n := 0
		for _, t := range proxy.Targets() {
			if t == hostOf(private.IssuerURL()) {
				n++
			}
		}
		return n
	}

	BeforeAll(func() {
		proxy = connectproxy.New()
		DeferCleanup(proxy.Close)
		Expect(manager.Stop(10 * time.Second)).To(Succeed())
		Expect(callback.Stop(10 * time.Second)).To(Succeed())
		startManager("--egress-proxy=" + proxy.URL())
		startCallback("--egress-proxy=" + proxy.URL())
		DeferCleanup(func() {
			Expect(manager.Stop(10 * time.Second)).To(Succeed())
			Expect(callback.Stop(10 * time.Second)).To(Succeed())
			startManager()
			startCallback()
		})

		ca = fixture.NewCA()
		var err error
		private, err = fakeauth.Start(fakeauth.Options{SeparateOrigins: true, TLS: ca.ServerTLS(), AccessTokenTTL: tokenTTL},
			"127.0.0.1:0", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(private.Close)

		bundle := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "corporate-ca"},
			Data:       map[string]string{"ca.crt": string(ca.PEM())},
		}
		Expect(k8s.Create(ctx, bundle)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, bundle))).To(Succeed()) })

		s := fixture.MCPServer(namespace, name, private.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		s.Spec.CABundleRef = &mcpv1.CABundleSource{ConfigMapKeyRef: &mcpv1.ConfigMapKeySelector{Name: bundle.Name, Key: "ca.crt"}}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { deleteServer(s) })
		key = client.ObjectKeyFromObject(s)
	})

	It("an OAuth2 MCPServer reaches Ready, the manager's calls tunnelled through the proxy", func() {
		got, err := harness.WaitMCPServer(ctx, k8s, key, time.Minute, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Status.OAuth2.Registration).To(Equal(mcpv1.RegistrationDCR))
		Expect(private.Counters().Register).To(Equal(1))
		// Both origins, by their checked addresses (the URLs name 127.0.0.1 itself).
		Expect(proxy.Targets()).To(ContainElements(hostOf(private.MCPURL()), hostOf(private.IssuerURL())))
	})

	It("a user connects through the callback server and the refresher refreshes, both through the proxy", func() {
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(ca.PEM())).To(BeTrue())
		before := asked()
		_, err := harness.NewBrowser(callbackURL, userHeader, user).WithRootCAs(pool).Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(private.Counters().TokenCode).To(Equal(1))
		Expect(asked()).To(BeNumerically(">", before), "the callback server's code exchange went through the proxy")

		connected, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		before = asked()
		waitRefreshed(connected)
		Expect(private.Counters().TokenRefresh).To(BeNumerically(">=", 1))
		Expect(asked()).To(BeNumerically(">", before), "the refresher's refresh went through the proxy")
	})
})
