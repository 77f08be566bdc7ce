// Package e2e runs the whole chain with the real binaries: the manager and
// the callback server as processes (built with go build), a real
// kube-apiserver and etcd, the fake OAuth authorization server and MCP server
// and, as a second authorization server nobody here wrote, node-oidc-provider
// (test/oidcprovider), a headless browser and a chat pod's token lookup.
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

const (
	namespace  = "e2e"
	userHeader = "X-Forwarded-User"
	// tokenTTL is short so the refresher acts within the test (at 78-80 %,
	// 31-32 s), and long enough to keep its normal schedule: tokens living
	// under 39 s wait for the refresher's 30 s floor.
	tokenTTL = 40 * time.Second
)

var (
	ctx        context.Context
	k8s        client.Client
	fake       *fakeauth.Server
	bins       harness.Binaries
	workDir    string
	kubeconfig string
	// callbackURL and probeAddr are fixed for the suite so a restarted
	// manager keeps the same redirect URIs.
	callbackURL, callbackAddr, probeAddr string
	manager, callback                    *harness.Process
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

	By("building the manager, the callback server and fake-mcp-server")
	var err error
	bins, err = harness.BuildBinaries(envtestutil.RepoRoot(), filepath.Join(workDir, "bin"))
	Expect(err).NotTo(HaveOccurred())

	By("starting kube-apiserver and etcd with the CRDs")
	env, _, err := envtestutil.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	kubeconfig = writeAdminKubeconfig(env)
	k8s, err = harness.NewClient(kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	Expect(harness.EnsureNamespace(ctx, k8s, namespace)).To(Succeed())

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

	By("starting the manager and the callback server as processes")
	startManager()
	// Stops whichever manager runs at the end (a spec may restart it).
	DeferCleanup(func() { _ = manager.Stop(10 * time.Second) })
	callback, err = harness.StartCallback(ctx, harness.CallbackOptions{
		Bin: bins.Callback, LogDir: logDir(), Kubeconfig: kubeconfig,
		Namespace: namespace, Listen: callbackAddr, PublicURL: callbackURL,
		UserHeader: userHeader, CookieKeyFile: filepath.Join(workDir, "cookie.key"),
		TicketKeyFile: ticketKeyFile(), TokenListen: tokenAddr, // tokenendpoint_test.go
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = callback.Stop(10 * time.Second) })
})

// startManager starts (or restarts) the manager process.
func startManager() {
	var err error
	manager, err = harness.StartManager(ctx, harness.ManagerOptions{
		Bin: bins.Manager, LogDir: logDir(), Kubeconfig: kubeconfig,
		CallbackURL: callbackURL, ProbeAddr: probeAddr,
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

// logDir keeps the processes' logs; they are printed when a spec fails.
func logDir() string { return filepath.Join(workDir, "logs") }

// writeAdminKubeconfig writes a kubeconfig of a system:masters user of env
// for the child processes.
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
	for _, name := range []string{"manager", "callback", "oidc-provider"} {
		if data, err := os.ReadFile(filepath.Join(logDir(), name+".log")); err == nil {
			const maxTail = 20000
			if len(data) > maxTail {
				data = data[len(data)-maxTail:]
			}
			AddReportEntry(name+".log (tail)", string(data))
		}
	}
})
