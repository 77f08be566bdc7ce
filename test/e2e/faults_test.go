package e2e

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
	"github.com/mcp-operator/mcp-operator/test/mcptest"
)

// The fault-injection suite: each fault of issue 13 is injected into one
// tenant (an OAuth2 MCPServer on its own fake authorization server, with
// users connected through the callback server), against the real manager
// and callback processes. After each, the suite checks what must survive:
// the client, its registration at the authorization server, every user's
// token Secret and grant, and that another tenant's server still
// reconciles.
var _ = Describe("Faults that must lose nothing", Ordered, func() {
	var bystander client.ObjectKey

	BeforeAll(func() {
		open, err := harness.ServeSimpleMCP("127.0.0.1:0", "bystander", "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(open.Close)
		s := fixture.MCPServer(namespace, "bystander", open.URL)
		Expect(k8s.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { deleteServer(s) })
		bystander = client.ObjectKeyFromObject(s)
		_, err = harness.WaitMCPServer(ctx, k8s, bystander, 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
	})

	// othersStillReconcile edits the bystander and waits for the manager
	// to act on the edit.
	othersStillReconcile := func() {
		GinkgoHelper()
		editServer(bystander, "fault elsewhere")
		waitReconciled(bystander, 20*time.Second)
	}

	It("the metadata origin answers /.well-known/* with a 403 HTML page while the server is edited (item 1)", func() {
		t := newTenant("waf", fakeauth.Options{PRM: fakeauth.PRMRootOnly}, "alice", "bob")
		waf := fakeauth.HTTPFault{Status: http.StatusForbidden, HTML: true}
		t.fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
			fakeauth.EndpointPRM: waf, fakeauth.EndpointMetadata: waf}})
		prm := t.fake.Counters().PRM

		editServer(t.key, "edited during a WAF incident")
		waitReconciled(t.key, 30*time.Second)
		Expect(t.fake.Counters().PRM).To(BeNumerically(">", prm), "discovery ran into the fault")
		t.expectNothingLost()
		othersStillReconcile()

		t.fake.SetFault(fakeauth.Fault{})
		editServer(t.key, "the WAF rule is gone")
		waitReconciled(t.key, 30*time.Second)
		t.expectNothingLost()
	})

	It("one code exchange answers invalid_client, as a junk code pasted into a callback gets (item 2)", func() {
		t := newTenant("junk-code", fakeauth.Options{}, "alice", "bob")
		t.fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
			fakeauth.EndpointToken: {Status: http.StatusUnauthorized, Code: "invalid_client", Times: 1}}})

		_, err := harness.NewBrowser(callbackURL, userHeader, "mallory").Connect(ctx, namespace, t.key.Name)
		Expect(err).To(HaveOccurred(), "the exchange failed")
		Consistently(func(g Gomega) {
			s := &mcpv1.MCPServer{}
			g.Expect(k8s.Get(ctx, t.key, s)).To(Succeed())
			g.Expect(s.Annotations).NotTo(HaveKey(mcpv1.AnnotationClientInvalid))
		}, 3*time.Second).Should(Succeed())
		t.expectNothingLost()
		othersStillReconcile()
	})

	It("the authorization server forgets every registration (item 3: noticed, not kept)", func() {
		t := newTenant("amnesia", fakeauth.Options{}, "alice")
		Expect(t.fake.RevokeClient(t.clientID)).To(BeTrue())

		editServer(t.key, "rediscover")
		s, err := harness.WaitMCPServer(ctx, k8s, t.key, 30*time.Second, func(s *mcpv1.MCPServer) bool {
			return harness.IsReady(s) && s.Status.OAuth2.ClientID != t.clientID
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		_, known := t.fake.Client(s.Status.OAuth2.ClientID)
		Expect(known).To(BeTrue(), "a new client, registered at the authorization server")
		Expect(t.fake.Counters().Register).To(Equal(2))

		By("letting users connect again through the new client")
		_, err = harness.NewBrowser(callbackURL, userHeader, "alice").Connect(ctx, namespace, t.key.Name)
		Expect(err).NotTo(HaveOccurred())
		_, err = harness.ChatPodCall(ctx, chatPod, namespace, t.key.Name, "alice", "echo", map[string]any{"message": "back"})
		Expect(err).NotTo(HaveOccurred())
		othersStillReconcile()
	})

	It("a None server pages tools/list forever with 1 KiB tool names (item 7)", func() {
		hostile, pages := mcptest.NewEndlessToolList(500, 1024)
		DeferCleanup(hostile.Close)
		s := fixture.MCPServer(namespace, "endless", hostile.URL)
		Expect(k8s.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { deleteServer(s) })

		got, err := harness.WaitMCPServer(ctx, k8s, client.ObjectKeyFromObject(s), 30*time.Second, func(s *mcpv1.MCPServer) bool {
			return meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionReachable) != nil
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(got.Status.Tools)).To(BeNumerically("<=", mcpv1.MaxTools))
		Expect(pages.Load()).To(BeNumerically("<", 100), "the probe stopped following the cursor")
		exited, _ := manager.Exited()
		Expect(exited).To(BeFalse())
		Expect(residentMiB(manager.PID())).To(BeNumerically("<", 256), "the manager's memory stays under the shipped limit")
		othersStillReconcile()
	})

	It("five servers accept connections and never answer (item 9)", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		go holdConnections(ln)
		for i := range 5 {
			s := fixture.MCPServer(namespace, "silent-"+strconv.Itoa(i), "http://"+ln.Addr().String()+"/mcp",
				fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
			Expect(k8s.Create(ctx, s)).To(Succeed())
			DeferCleanup(func() { deleteServer(s) })
		}
		t := newTenant("beside-silent", fakeauth.Options{}, "alice")
		t.expectNothingLost()
		othersStillReconcile()
	})

	It("the authorization server says expires_in: 1 (item 10)", func() {
		t := newTenant("hasty", fakeauth.Options{AccessTokenTTL: time.Second}, "alice")
		refreshes := t.fake.Counters().TokenRefresh
		Eventually(func(g Gomega) {
			sec := t.tokenSecret(g, "alice")
			g.Expect(sec.Annotations).To(HaveKey(tokensecret.AnnotationRefreshFloored))
		}).Should(Succeed())
		Consistently(func() int { return t.fake.Counters().TokenRefresh - refreshes }, 5*time.Second).Should(BeNumerically("<=", 1),
			"at most one refresh in 5 s, not one a second")
		// Between refreshes the 1 s access token is expired: the floor
		// trades that for a request rate a provider cannot dictate.
		t.expectKept()
	})
})

// tenant is one OAuth2 MCPServer on its own fake authorization server, with
// users connected through the callback server.
type tenant struct {
	key      client.ObjectKey
	fake     *fakeauth.Server
	clientID string
	grants   map[string]string // user → grant ID
}

// newTenant starts a fake authorization server with opts (on separate
// origins), creates an auto-configured OAuth2 server on it, waits until it
// is Ready and connects users. The server is deleted before the fake stops.
func newTenant(name string, opts fakeauth.Options, users ...string) *tenant {
	GinkgoHelper()
	opts.SeparateOrigins = true
	f, err := fakeauth.Start(opts, "127.0.0.1:0", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(f.Close)
	s := fixture.MCPServer(namespace, name, f.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
	Expect(k8s.Create(ctx, s)).To(Succeed())
	DeferCleanup(func() { deleteServer(s) })

	t := &tenant{key: client.ObjectKeyFromObject(s), fake: f, grants: map[string]string{}}
	s, err = harness.WaitMCPServer(ctx, k8s, t.key, 30*time.Second, harness.IsReady, nil)
	Expect(err).NotTo(HaveOccurred())
	t.clientID = s.Status.OAuth2.ClientID
	for _, u := range users {
		_, err := harness.NewBrowser(callbackURL, userHeader, u).Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred())
		v, err := harness.GetTokenView(ctx, k8s, namespace, name, u)
		Expect(err).NotTo(HaveOccurred())
		t.grants[u] = v.GrantID
	}
	return t
}

// expectNothingLost checks that the tenant still has its client, its
// registration and every user's grant, and that a chat pod can still call a
// tool with each user's token.
func (t *tenant) expectNothingLost() {
	GinkgoHelper()
	t.expectKept()
	for u := range t.grants {
		_, err := harness.ChatPodCall(ctx, chatPod, namespace, t.key.Name, u, "echo", map[string]any{"message": u})
		Expect(err).NotTo(HaveOccurred())
	}
}

// expectKept checks that the tenant still has its client, its registration
// and every user's grant.
func (t *tenant) expectKept() {
	GinkgoHelper()
	s := &mcpv1.MCPServer{}
	Expect(k8s.Get(ctx, t.key, s)).To(Succeed())
	Expect(s.Status.OAuth2).NotTo(BeNil())
	Expect(s.Status.OAuth2.ClientID).To(Equal(t.clientID), "the client was kept")
	_, known := t.fake.Client(t.clientID)
	Expect(known).To(BeTrue(), "the registration at the authorization server was kept")
	Expect(t.fake.Counters().Register).To(Equal(1), "no client was registered again")
	Expect(t.fake.Counters().RegistrationDelete).To(BeZero())
	for u, grant := range t.grants {
		sec := t.tokenSecret(Default, u)
		Expect(sec.Annotations[tokensecret.AnnotationGrantID]).To(Equal(grant), "%s's grant was kept", u)
		Expect(sec.Annotations[mcpauth.AnnotationState]).To(Equal(string(mcpauth.StateActive)))
		Expect(sec.Data[tokensecret.KeyRefreshToken]).NotTo(BeEmpty(), "%s can be refreshed", u)
		Expect(t.fake.GrantAlive(string(sec.Data[mcpauth.KeyAccessToken]))).To(BeTrue(), "%s's grant is alive at the authorization server", u)
	}
}

func (t *tenant) tokenSecret(g Gomega, user string) *corev1.Secret {
	sec := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: mcpauth.TokenSecretName(t.key.Name, user)}, sec)).To(Succeed())
	return sec
}

// editServer changes the server's description: a new generation, which the
// manager reconciles with a fresh discovery.
func editServer(key client.ObjectKey, description string) {
	GinkgoHelper()
	s := &mcpv1.MCPServer{}
	Expect(k8s.Get(ctx, key, s)).To(Succeed())
	patch := client.MergeFrom(s.DeepCopy())
	s.Spec.Description = description + " " + strconv.FormatInt(time.Now().UnixNano(), 36)
	Expect(k8s.Patch(ctx, s, patch)).To(Succeed())
}

// waitReconciled waits until Ready describes the server's current
// generation, whatever it says.
func waitReconciled(key client.ObjectKey, timeout time.Duration) {
	GinkgoHelper()
	_, err := harness.WaitMCPServer(ctx, k8s, key, timeout, func(s *mcpv1.MCPServer) bool {
		c := meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionReady)
		return c != nil && c.ObservedGeneration == s.Generation
	}, nil)
	Expect(err).NotTo(HaveOccurred())
}

// deleteServer deletes s and waits until its finalizer has run.
func deleteServer(s *mcpv1.MCPServer) {
	GinkgoHelper()
	if err := k8s.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(s), &mcpv1.MCPServer{}))
	}, time.Minute).Should(BeTrue(), "%s was not deleted", s.Name)
}

// holdConnections accepts connections and never answers, until ln closes.
func holdConnections(ln net.Listener) {
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		held = append(held, c)
	}
}

// residentMiB is a process's resident memory in MiB (Linux /proc).
func residentMiB(pid int) int {
	GinkgoHelper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.Fields(rest)[0])
			Expect(err).NotTo(HaveOccurred())
			return kb / 1024
		}
	}
	Fail("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	return 0
}
