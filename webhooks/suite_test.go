package webhooks_test

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/webhooks"
)

// noDefaultingLabel on a namespace keeps the mutating webhook away from it,
// so the CRD's own defaults can be compared with the webhook's.
const noDefaultingLabel = "webhooks-test.mcpoperator.io/no-defaulting"

var (
	ctx       context.Context
	scheme    = envtestutil.NewScheme()
	k8sClient client.Client
	warnings  = &warningCollector{}
)

func TestWebhooks(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(20 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "MCPServer admission webhooks on a real kube-apiserver")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))

	env, cfg, err := envtestutil.StartWithWebhooks()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel) // registered after env.Stop, so it runs first

	wh := env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir,
		}),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(webhooks.SetupWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	addr := net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort))
	Eventually(func() error {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // readiness probe of our own test server
		if err == nil {
			conn.Close()
		}
		return err
	}).Should(Succeed(), "the webhook server did not start")

	// One client for every test; warnings.take() hands a test the admission
	// warnings its requests got.
	withWarnings := rest.CopyConfig(cfg)
	withWarnings.WarningHandler = warnings
	k8sClient, err = client.New(withWarnings, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	excludeLabelledNamespacesFromDefaulting()
})

// excludeLabelledNamespacesFromDefaulting adds a namespaceSelector to the
// installed mutating webhook, so namespaces carrying noDefaultingLabel get
// only the CRD's defaults. Only this test installation is changed.
func excludeLabelledNamespacesFromDefaulting() {
	var list admissionv1.MutatingWebhookConfigurationList
	Expect(k8sClient.List(ctx, &list)).To(Succeed())
	found := false
	for i := range list.Items {
		c := &list.Items[i]
		for j := range c.Webhooks {
			if c.Webhooks[j].Name == "mmcpserver.mcpoperator.io" {
				c.Webhooks[j].NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: noDefaultingLabel, Operator: metav1.LabelSelectorOpDoesNotExist},
				}}
				found = true
				Expect(k8sClient.Update(ctx, c)).To(Succeed())
			}
		}
	}
	Expect(found).To(BeTrue(), "config/webhook has no mutating webhook mmcpserver.mcpoperator.io")
}

// warningCollector is a rest.WarningHandler that keeps admission warnings.
type warningCollector struct {
	mu   sync.Mutex
	list []string
}

func (w *warningCollector) HandleWarningHeader(code int, _ string, text string) {
	if code != 299 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings received since the last take.
func (w *warningCollector) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// newNamespace creates a namespace of its own for one test.
func newNamespace(labels map[string]string) string {
	GinkgoHelper()
	ns, err := envtestutil.NewNamespace(ctx, k8sClient, "wh", envtestutil.WithLabels(labels))
	Expect(err).NotTo(HaveOccurred())
	return ns
}

// validServer is the smallest valid object; tests change one thing.
func validServer(ns string) *mcpv1.MCPServer {
	return &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: "server", Namespace: ns},
		Spec:       mcpv1.MCPServerSpec{DisplayName: "Example", URL: "https://mcp.example.com/mcp"},
	}
}

// createSecret creates a Secret meant for MCPServers: labelled with the
// credential opt-in.
func createSecret(ns, name string, data map[string]string) {
	createSecretOf(ns, name, corev1.SecretTypeOpaque, map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue}, data)
}

// createSecretOf creates a Secret of type typ with exactly labels.
func createSecretOf(ns, name string, typ corev1.SecretType, labels, data map[string]string) {
	GinkgoHelper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Type: typ, StringData: data}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
}
