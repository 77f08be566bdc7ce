// Package egress runs the MCPServer controller as an enterprise cluster
// would: every outbound call leaves through an HTTP CONNECT proxy
// (--egress-proxy), and the servers are signed by a private CA given by
// spec.caBundleRef. The proxy and the CA are the test's own, on loopback.
package egress

import (
	"context"
	"flag"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/connectproxy"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

var (
	ctx       context.Context
	k8sClient client.Client
	proxy     *connectproxy.Proxy
	dials     dialLog
)

func TestEgress(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "MCPServer controller behind an egress proxy and a private CA")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(GinkgoLogr)
	env, cfg, err := envtestutil.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	scheme := envtestutil.NewScheme()
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	proxy = connectproxy.New()
	DeferCleanup(proxy.Close)

	// The policy comes from the flags, as the manager's does.
	var policy oauth.EgressPolicy
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	policy.BindFlags(fs)
	Expect(fs.Parse([]string{"--allow-loopback-egress", "--egress-proxy=" + proxy.URL()})).To(Succeed())
	policy.DialContext = dials.dial

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  controllers.ClientOptions(),
		Cache:   controllers.CacheOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controllers.SetupWithManager(ctx, mgr, controllers.Config{
		HTTPClient:     oauth.NewHTTPClient(policy),
		ResyncInterval: time.Hour,
		CallbackURL:    "http://127.0.0.1:8090",
	})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

// dialLog records every address the operator's client dials. It connects
// only to the proxy: with --egress-proxy, nothing else may be dialled.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	if addr != proxy.Addr() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("test dialer: %s is not the proxy", addr)}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *dialLog) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

func newNamespace() string {
	GinkgoHelper()
	ns, err := envtestutil.NewNamespace(ctx, k8sClient, "egress")
	Expect(err).NotTo(HaveOccurred())
	return ns
}
