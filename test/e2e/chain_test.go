package e2e

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

const user = "e2e-user"

// The chain is one story told in order: a server is configured, a user
// connects, a chat pod calls a tool, the token is refreshed, the manager
// restarts, the user disconnects and the server is deleted.
var _ = Describe("An OAuth2 MCPServer, end to end", Ordered, func() {
	const name = "oauth"
	key := client.ObjectKey{Namespace: namespace, Name: name}
	var (
		browser  *harness.Browser
		clientID string
		server   *mcpv1.MCPServer
	)

	BeforeAll(func() {
		browser = harness.NewBrowser(callbackURL, userHeader, user)
		Expect(k8s.Create(ctx, fixture.MCPServer(namespace, name, fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{})))).To(Succeed())
	})

	It("is discovered, registered through DCR and Ready", func() {
		var err error
		server, err = harness.WaitMCPServer(ctx, k8s, key, 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		o := server.Status.OAuth2
		Expect(o).NotTo(BeNil())
		Expect(o.Issuer).To(Equal(fake.IssuerURL()))
		Expect(o.Registration).To(Equal(mcpv1.RegistrationMethod("DCR")))
		Expect(o.RedirectURI).To(Equal(mcpauth.RedirectURI(callbackURL, namespace, name)))
		clientID = o.ClientID
		_, registered := fake.Client(clientID)
		Expect(registered).To(BeTrue(), "the fake authorization server knows client %s", clientID)
	})

	It("connects a user through the callback server into a token Secret", func() {
		res, err := browser.Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Hops).To(HaveLen(4), "connect → confirm → authorize → callback: %v", res.Hops)
		Expect(res.Hops[1].Method).To(Equal(http.MethodPost), "the user pressed Connect: %v", res.Hops)

		v, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Type).To(Equal(mcpv1.SecretTypeUserToken))
		Expect(v.Labels).To(HaveKeyWithValue(mcpv1.LabelServer, name))
		Expect(v.Labels).To(HaveKeyWithValue(mcpv1.LabelUserHash, mcpauth.UserHash(user)))
		Expect(v.User).To(Equal(user))
		Expect(v.OwnerName).To(Equal(name))
		Expect(v.Resource).To(Equal(fake.MCPURL()))

		Expect(connected(browser, name)).To(BeTrue())
	})

	It("lets a chat pod call a tool with the user's token", func() {
		res, err := harness.ChatPodCall(ctx, chatPod, namespace, name, user, "echo", map[string]any{"message": "e2e"})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Text).To(Equal("e2e"))
	})

	It("refreshes the token ahead of expiry, rotating it within the same grant", func() {
		before, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		after := waitRefreshed(before)
		Expect(after.RefreshTokenChanged(before)).To(BeTrue(), "rotation persisted")
		Expect(fake.Counters().ReuseDetected).To(BeZero())
		Expect(accessTokenAlive(name)).To(BeTrue())
	})

	It("loses nothing when the manager crashes and restarts", func() {
		registrations := fake.Counters().Register
		manager.Kill()
		// Taken while no manager runs: any later change is the new manager's.
		before, err := harness.GetTokenView(ctx, k8s, namespace, name, user)
		Expect(err).NotTo(HaveOccurred())
		startManager()

		By("keeping the registration: no new client")
		Consistently(func() int { return fake.Counters().Register }, 2*time.Second).Should(Equal(registrations))
		s, err := harness.WaitMCPServer(ctx, k8s, key, 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Status.OAuth2.ClientID).To(Equal(clientID))

		By("rebuilding the refresh schedule from the Secret")
		waitRefreshed(before)
		Expect(fake.Counters().ReuseDetected).To(BeZero())
		Expect(accessTokenAlive(name)).To(BeTrue())
		_, err = harness.ChatPodCall(ctx, chatPod, namespace, name, user, "test-tool", nil)
		Expect(err).NotTo(HaveOccurred())
	})

	It("disconnects: revokes at the authorization server and deletes the Secret", func() {
		revocations := fake.Counters().Revoke
		sec := tokenSecret(name)
		refresh := string(sec.Data[tokensecret.KeyRefreshToken])

		Expect(browser.Disconnect(ctx, namespace, name)).To(Succeed())
		Expect(fake.Counters().Revoke).To(BeNumerically(">", revocations))
		Expect(fake.GrantAlive(refresh)).To(BeFalse(), "the grant was revoked")
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sec), &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "token Secret deleted: %v", err)
		Expect(connected(browser, name)).To(BeFalse())
		_, err = harness.ChatPodCall(ctx, chatPod, namespace, name, user, "echo", map[string]any{"message": "x"})
		Expect(err).To(MatchError(mcpauth.ErrNotConnected))
	})

	It("deleting the MCPServer deletes its registration, revokes its users' tokens and deletes its Secrets", func() {
		_, err := browser.Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred())
		s := &mcpv1.MCPServer{}
		Expect(k8s.Get(ctx, key, s)).To(Succeed())
		owned := ownedSecrets(s)
		Expect(owned).To(ConsistOf(mcpv1.ClientSecretName(name), mcpauth.TokenSecretName(name, user)))

		revokedBefore := fake.Counters().Revoke
		Expect(k8s.Delete(ctx, s)).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, key, &mcpv1.MCPServer{})) }).Should(BeTrue())
		_, registered := fake.Client(clientID)
		Expect(registered).To(BeFalse(), "RFC 7592 delete of client %s", clientID)
		Expect(fake.Counters().RegistrationDelete).To(BeNumerically(">=", 1))
		Expect(fake.Counters().Revoke).To(BeNumerically(">", revokedBefore), "the user's tokens were not revoked")

		// The finalizer deleted the Secrets itself; the garbage collector
		// of gc_test.go collects what it does not own.
		Expect(ownedSecretsByLabel(name)).To(BeEmpty())
	})
})

var _ = Describe("APIKey and None MCPServers, end to end", func() {
	It("become Ready and answer a chat pod's tool calls", func() {
		const apiKey = "e2e-key"
		open, err := harness.ServeSimpleMCP("127.0.0.1:0", "open", "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(open.Close)
		keyed, err := harness.ServeSimpleMCP("127.0.0.1:0", "keyed", "X-API-Key", apiKey)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(keyed.Close)

		Expect(k8s.Create(ctx, fixture.CredentialSecret(namespace, "keyed-key", map[string]string{"key": apiKey}))).To(Succeed())
		Expect(k8s.Create(ctx, fixture.MCPServer(namespace, "keyed", keyed.URL, fixture.WithAPIKey("X-API-Key", "keyed-key", "key")))).To(Succeed())
		Expect(k8s.Create(ctx, fixture.MCPServer(namespace, "open", open.URL))).To(Succeed())

		for _, n := range []string{"keyed", "open"} {
			s, err := harness.WaitMCPServer(ctx, k8s, client.ObjectKey{Namespace: namespace, Name: n}, 30*time.Second, harness.IsReady, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Status.Tools).To(ConsistOf("hello"))
			res, err := harness.ChatPodCall(ctx, chatPod, namespace, n, user, "hello", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Text).To(Equal("hello from " + n))
		}
	})
})
