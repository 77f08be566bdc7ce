// Package e2e runs the whole chain with the real binaries: the manager and
// the callback server as processes (built with go build), a real
// kube-apiserver, etcd and kube-controller-manager, the fake OAuth
// authorization server and MCP server and, as a second authorization server
// nobody here wrote, node-oidc-provider (test/oidcprovider), a headless
// browser and a chat pod's token lookup.
//
// The control plane enforces what a real cluster does: RBAC,
// OwnerReferencesPermissionEnforcement, garbage collection and namespace
// deletion. The manager, the callback server and the chat pod run as their
// ServiceAccounts with exactly the RBAC that config/ renders, and every
// MCPServer passes through the admission webhooks of config/webhook, served
// by the manager over TLS.
package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

const (
	// namespace is the chat app's, where config/callback and the chat
	// reader Role of config/rbac are rendered: the MCPServers, the callback
	// server and the chat pod live there.
	namespace  = "chat"
	userHeader = "X-Forwarded-User"
	// tokenTTL is short so the refresher acts within the test (at 78-80 %,
	// 31-32 s), and long enough to keep its normal schedule: tokens living
	// under 39 s wait for the refresher's 30 s floor.
	tokenTTL = 40 * time.Second
)

var (
	ctx  context.Context
	cp   *harness.Enforcing
	fake *fakeauth.Server
	bins harness.Binaries
	// k8s is a cluster admin's client: the test's own hands.
	k8s client.Client
	// chatPod reads as the chat pod's ServiceAccount.
	chatPod client.Client
	workDir string
	// kubeconfigs of the manager, the callback server and the chat pod,
	// each authenticated as its ServiceAccount.
	kubeconfigs map[identity]string
	// callbackURL and probeAddr are fixed for the suite so a restarted
	// manager keeps the same redirect URIs.
	callbackURL, callbackAddr, probeAddr string
	manager, callback                    *harness.Process
	// webhooks is where the manager serves the admission webhooks.
	webhooks *harness.WebhookServing
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "End to end: manager and callback server processes on a real kube-apiserver")
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	workDir = GinkgoT().TempDir()
	logf.SetLogger(GinkgoLogr)

	By("building the manager, the callback server and fake-mcp-server")
	var err error
	bins, err = harness.BuildBinaries(envtestutil.RepoRoot(), filepath.Join(workDir, "bin"))
	Expect(err).NotTo(HaveOccurred())

	By("starting kube-apiserver (RBAC, OwnerReferencesPermissionEnforcement), etcd and kube-controller-manager (garbage collector, namespaces)")
	cp, err = harness.StartEnforcing(ctx, logDir())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cp.Stop)
	k8s, err = harness.NewClient(writeAdminKubeconfig(cp.Env))
	Expect(err).NotTo(HaveOccurred())

	By("creating the ServiceAccounts and the RBAC that config/ renders, and a token for each identity")
	kubeconfigs = installIdentities()
	chatPod, err = harness.NewClient(kubeconfigs[chatPodIdentity])
	Expect(err).NotTo(HaveOccurred())

	By("starting the fake authorization server and MCP server (realistic mode)")
	fake, err = fakeauth.Start(fakeauth.Options{
		SeparateOrigins: true,
		ISSParameter:    true,
		AccessTokenTTL:  tokenTTL,
	}, "127.0.0.1:0", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(fake.Close)

	callbackAddr, err = harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())
	callbackURL = "http://" + callbackAddr
	probeAddr, err = harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())

	By("starting the manager (serving the admission webhooks over TLS) and registering the webhooks of config/webhook")
	webhookAddr, err := harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())
	webhooks = &harness.WebhookServing{Addr: webhookAddr, CertDir: filepath.Join(workDir, "webhook-certs")}
	caPEM, err := harness.WriteServingCert(webhooks.CertDir, net.ParseIP("127.0.0.1"))
	Expect(err).NotTo(HaveOccurred())
	startManager()
	// Stops whichever manager runs at the end (a spec may restart it).
	DeferCleanup(func() { _ = manager.Stop(10 * time.Second) })
	n, err := harness.RegisterWebhooks(ctx, k8s, renderedDefault, "https://"+webhookAddr, caPEM)
	Expect(err).NotTo(HaveOccurred())
	Expect(n).To(Equal(2), "a mutating and a validating webhook configuration")

	By("starting the callback server")
	startCallback()
	// Stops whichever callback server runs at the end (a spec may restart it).
	DeferCleanup(func() { _ = callback.Stop(10 * time.Second) })
})

// startCallback starts (or restarts) the callback server process, with
// extraArgs after the suite's flags.
func startCallback(extraArgs ...string) {
	var err error
	callback, err = harness.StartCallback(ctx, harness.CallbackOptions{
		Bin: bins.Callback, LogDir: logDir(), Kubeconfig: kubeconfigs[callbackIdentity],
		Namespace: namespace, Listen: callbackAddr, PublicURL: callbackURL,
		UserHeader: userHeader, CookieKeyFile: filepath.Join(workDir, "cookie.key"),
		TicketKeyFile: ticketKeyFile(), TokenListen: tokenAddr, // tokenendpoint_test.go
		ExtraArgs: extraArgs,
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

// startManager starts (or restarts) the manager process, with extraArgs
// after the suite's flags.
func startManager(extraArgs ...string) {
	var err error
	manager, err = harness.StartManager(ctx, harness.ManagerOptions{
		Bin: bins.Manager, LogDir: logDir(), Kubeconfig: kubeconfigs[managerIdentity],
		CallbackURL: callbackURL, ProbeAddr: probeAddr, Webhooks: webhooks, ExtraArgs: extraArgs,
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

// logDir keeps the processes' logs; they are printed when a spec fails.
func logDir() string { return filepath.Join(workDir, "logs") }

// writeAdminKubeconfig writes a kubeconfig of a system:masters user of env.
func writeAdminKubeconfig(env *envtest.Environment) string {
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	data, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(workDir, "kubeconfig")
	Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
	return path
}

// On failure, attach the processes' logs to the report.
var _ = ReportAfterEach(func(r SpecReport) {
	if !r.Failed() {
		return
	}
	for _, name := range []string{"manager", "callback", "oidc-provider", "kube-controller-manager"} {
		if data, err := os.ReadFile(filepath.Join(logDir(), name+".log")); err == nil {
			const maxTail = 20000
			if len(data) > maxTail {
				data = data[len(data)-maxTail:]
			}
			AddReportEntry(name+".log (tail)", string(data))
		}
	}
})
