package e2e

import (
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
	"github.com/mcp-operator/mcp-operator/test/oidcprovider"
)

// The same chain as against the fake, with an authorization server nobody
// here wrote: node-oidc-provider, OpenID Certified. It registers the
// operator through open DCR, requires PKCE, sends RFC 9207 iss, issues JWT
// access tokens for the resource, rotates refresh tokens and revokes the
// grant when a spent one comes back. The user consents to mcp:read only,
// and offline_access, asked for, is not granted (oidc-provider wants
// prompt=consent for it): a refresh that asked for the configured scopes
// would be refused with invalid_scope.
var _ = Describe("An OAuth2 MCPServer whose authorization server is node-oidc-provider", Ordered, func() {
	const name = "oidc"
	key := client.ObjectKey{Namespace: namespace, Name: name}
	var (
		op      *oidcprovider.Server
		browser *harness.Browser
	)

	BeforeAll(func() {
		var err error
		op, err = oidcprovider.Start(ctx, oidcprovider.Options{
			ConsentScopes: []string{"mcp:read", "offline_access"}, AccessTokenTTL: tokenTTL, LogDir: logDir()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(op.Close)
		browser = harness.NewBrowser(callbackURL, userHeader, user)
		Expect(k8s.Create(ctx, fixture.MCPServer(namespace, name, op.MCPURL, fixture.WithOAuth2(mcpv1.OAuth2Auth{})))).To(Succeed())
	})

	It("is discovered, registered through DCR at oidc-provider and Ready", func() {
		s, err := harness.WaitMCPServer(ctx, k8s, key, 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		o := s.Status.OAuth2
		Expect(o.Issuer).To(Equal(op.Issuer))
		Expect(o.Resource).To(Equal(op.MCPURL))
		Expect(o.Registration).To(Equal(mcpv1.RegistrationMethod("DCR")))
		Expect(o.Scopes).To(ContainElements("mcp:read", "mcp:tools", "offline_access"))
		Expect(o.ISSParameterSupported).To(BeTrue())
	})

	It("connects a user through the callback server and oidc-provider's sign-in", func() {
		res, err := browser.Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred(), "hops: %v", res)
		v, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Issuer).To(Equal(op.Issuer))
		Expect(v.Resource).To(Equal(op.MCPURL))
		Expect(v.KeySizes).To(HaveKey(tokensecret.KeyRefreshToken))
		Expect(strings.Fields(v.Scope)).To(ContainElement("mcp:read"))
		Expect(strings.Fields(v.Scope)).NotTo(ContainElement("mcp:tools"), "the user did not consent to it")
		Expect(string(tokenSecret(name).Data[tokensecret.KeyTokenEndpoint])).To(Equal(op.Issuer + "/token"))
		Expect(connected(browser, name)).To(BeTrue())

		call, err := harness.ChatPodCall(ctx, chatPod, namespace, name, user, oidcprovider.ToolWhoAmI, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Text).To(Equal("op-user"))
	})

	It("refreshes at oidc-provider twice, storing each rotated refresh token and redeeming it next", func() {
		before, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		for i := 1; i <= 2; i++ {
			after := waitRefreshed(before)
			Expect(after.RefreshTokenChanged(before)).To(BeTrue(), "refresh %d rotated the refresh token", i)
			sec := tokenSecret(name)
			Expect(sec.Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshError))
			Expect(op.VerifyAccessToken(string(sec.Data[mcpauth.KeyAccessToken]))).To(Succeed())
			before = after
		}
		// The second refresh redeemed the first rotation: had the old token
		// been sent again, oidc-provider would have revoked the grant and the
		// stored tokens would not work.
		call, err := harness.ChatPodCall(ctx, chatPod, namespace, name, user, oidcprovider.ToolWhoAmI, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(call.Text).To(Equal("op-user"))
		Expect(slices.Contains(strings.Fields(before.Scope), "mcp:tools")).To(BeFalse())
	})
})
