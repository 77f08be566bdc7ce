package mcpserver_test

import (
	"context"
	"io"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

var (
	cfg       *rest.Config
	scheme    = envtestutil.NewScheme()
	k8sClient client.WithWatch
	ctx       context.Context
	suiteLogs *gbytes.Buffer
)

func TestMCPServer(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "MCPServer controller on a real kube-apiserver")
}

var _ = BeforeSuite(func() {
	// Every log line, at the highest verbosity, is kept for the specs that
	// check nothing secret is logged.
	suiteLogs = gbytes.NewBuffer()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, suiteLogs)), zap.UseDevMode(true), zap.Level(zapcore.Level(-10))))

	env, restCfg, err := envtestutil.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	cfg = restCfg
	// Registered after env.Stop so it runs first: the manager stops before the API server.
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	k8sClient, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  controllers.ClientOptions(),
		Cache:   controllers.CacheOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.SetupWithManager(ctx, mgr, testConfig())).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

// testConfig is the controllers' configuration in tests: loopback and plain
// http are allowed because every peer is an httptest server.
func testConfig() controllers.Config {
	return controllers.Config{
		HTTPClient:     oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}),
		ResyncInterval: time.Hour,
		CallbackURL:    "http://127.0.0.1:8090",
	}
}

// newNamespace gives each test its own namespace.
func newNamespace() string {
	GinkgoHelper()
	ns, err := envtestutil.NewNamespace(ctx, k8sClient, "test")
	Expect(err).NotTo(HaveOccurred())
	return ns
}
