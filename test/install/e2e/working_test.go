// Package e2e proves that the manifests users install from produce a
// working install: dist/install.yaml (`kubectl apply -f`) and the Helm chart
// with its default values (`helm template`, as `helm install` renders it).
//
// Each manifest gets a fresh kube-apiserver and etcd (RBAC and
// OwnerReferencesPermissionEnforcement enforced): the two collide on
// cluster-scoped names (the CRD, ClusterRoles, webhook configurations), and
// leftovers of one would hide what the other lacks. Everything the manifest
// holds is applied for real, except the Deployment: there is no kubelet.
// Instead the manager binary built from this repository runs as a process
// with the Deployment's arguments, authenticated as the ServiceAccount the
// manifest creates, so the manifest's CRD, RBAC and namespace are what it
// works with, and the manifest's webhook configurations are registered
// against it (only their clientConfig is turned into a loopback URL).
package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
	"github.com/mcp-operator/mcp-operator/test/mcptest"
)

// watchedNamespace is where the MCPServers go: both manifests install a
// manager that watches the whole cluster.
const watchedNamespace = "team-a"

// TestWorkingInstall installs each manifest on its own control plane and
// proves the install works: an MCPServer becomes Ready, the manifest's
// webhooks default and refuse, metrics scrapes are authorized through the
// manifest's roles, deleting the MCPServer releases its finalizer, and the
// manager met no RBAC refusal on the way. Before that, the manifest's
// webhook Service and serving certificate are checked against its
// Deployment, which no kubelet runs here.
func TestWorkingInstall(t *testing.T) {
	// envtest logs through controller-runtime; what matters here is
	// returned as errors or is in the manager's log.
	logf.SetLogger(logr.Discard())
	root := envtestutil.RepoRoot()
	bins, err := harness.Build(root, t.TempDir(), "manager")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("dist/install.yaml", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "dist", "install.yaml"))
		if err != nil {
			t.Fatalf("reading dist/install.yaml (make build-installer writes it): %v", err)
		}
		objs, err := harness.DecodeManifests(data)
		if err != nil {
			t.Fatalf("decoding dist/install.yaml: %v", err)
		}
		checkWorkingInstall(t, bins.Manager, objs)
	})

	t.Run("helm template (default values)", func(t *testing.T) {
		bin := os.Getenv("HELM")
		if bin == "" {
			t.Skip("HELM is not set: run `make helm` and set HELM=bin/helm-<version> (make test does)")
		}
		// The release namespace is not part of the chart: helm install
		// --create-namespace makes it, and checkWorkingInstall creates the
		// namespaces the objects name.
		cmd := exec.Command(bin, "template", //nolint:gosec // G702: bin is $HELM, the Makefile's pinned helm
			"mcp-operator", filepath.Join(root, "charts", "mcp-operator"),
			"--namespace", "mcp-operator-system")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helm template: %v\n%s", err, stderr.String())
		}
		objs, err := harness.DecodeManifests(out)
		if err != nil {
			t.Fatalf("decoding the rendering: %v", err)
		}
		checkWorkingInstall(t, bins.Manager, objs)
	})
}

// checkWorkingInstall starts a control plane, installs objs on it with the
// manager running as a process in place of their Deployment, and exercises
// the install.
func checkWorkingInstall(t *testing.T, managerBin string, objs []*unstructured.Unstructured) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	dir := t.TempDir()

	deployments := harness.OfKinds(objs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("the manifest holds %d Deployments, want the manager's only", len(deployments))
	}
	manager := deployments[0]
	spec := podSpec(t, manager)

	checkWebhookWiring(t, objs, manager, spec)

	cfg := startControlPlane(t)
	admin := newClient(t, cfg)
	install(ctx, t, cfg, objs)

	// The manager's identity is the ServiceAccount its Deployment names,
	// in the Deployment's namespace: what its pods would authenticate as.
	sa := spec.serviceAccount
	if sa == "" {
		t.Fatalf("Deployment %s/%s names no serviceAccountName: its pods would run as default", manager.GetNamespace(), manager.GetName())
	}
	kubeconfig := filepath.Join(dir, "kubeconfig-manager")
	if err := harness.ServiceAccountKubeconfig(ctx, cfg, manager.GetNamespace(), sa, kubeconfig, time.Hour); err != nil {
		t.Fatal(err)
	}

	webhookAddr := freeAddr(t)
	certDir := filepath.Join(dir, "webhook-certs")
	caPEM, err := harness.WriteServingCert(certDir, net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	probeAddr, metricsAddr := freeAddr(t), freeAddr(t)
	args, err := localArgs(spec.args, map[string]string{
		"kubeconfig":                kubeconfig,
		"health-probe-bind-address": probeAddr,
		"metrics-bind-address":      metricsAddr,
		"webhook-bind-address":      webhookAddr,
		"webhook-cert-dir":          certDir,
		// The MCP server of this test listens on plain-http loopback.
		"allow-loopback-egress": "true",
		"allow-insecure-http":   "true",
	})
	if err != nil {
		t.Fatalf("the arguments of Deployment %s: %v", manager.GetName(), err)
	}
	logDir := filepath.Join(dir, "logs")
	p, err := harness.StartProcess("manager", logDir, managerBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		if t.Failed() {
			logTail(t, p.LogPath)
		}
	})
	if err := harness.WaitHTTP(ctx, p, "http://"+probeAddr+"/readyz", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	n, err := harness.RegisterWebhooks(ctx, admin, objs, "https://"+webhookAddr, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("registered %d webhook configurations, want a mutating and a validating one", n)
	}

	checkMCPServerLifecycle(ctx, t, admin, validatingWebhookName(t, objs), func(s *mcpv1.MCPServer) {
		checkMetrics(ctx, t, cfg, admin, objs, "https://"+metricsAddr+"/metrics",
			fmt.Sprintf(`mcp_operator_mcpserver_ready{name=%q,namespace=%q} 1`, s.Name, s.Namespace))
	})

	// Stopped first, so that the events it still had to send are sent.
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	checkNoRBACDenial(t, p.LogPath)
	t.Logf("a working install in %s", time.Since(start).Round(100*time.Millisecond))
}

// checkMCPServerLifecycle proves what the install is for: the webhooks
// refuse an invalid MCPServer and default a valid one, the manager makes
// it Ready, and deleting it releases the manager's finalizer. whileReady
// runs while it is Ready.
func checkMCPServerLifecycle(ctx context.Context, t *testing.T, c client.Client, validatingWebhook string, whileReady func(*mcpv1.MCPServer)) {
	if err := harness.EnsureNamespace(ctx, c, watchedNamespace); err != nil {
		t.Fatal(err)
	}
	mcp := mcptest.NewServer("", "")
	t.Cleanup(mcp.Close)

	// CEL accepts the URL (absolute, http, a host); a fragment is the
	// validating webhook's own rule, so only the webhook can refuse it.
	invalid := fixture.MCPServer(watchedNamespace, "fragment", mcp.URL+"/mcp#section")
	err := c.Create(ctx, invalid)
	if want := fmt.Sprintf("admission webhook %q denied the request", validatingWebhook); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "fragment") {
		t.Errorf("creating an MCPServer whose URL has a fragment: %v; want Invalid from %s", err, want)
	}

	// The mutating webhook trims; the API server would store the padding.
	s := fixture.MCPServer(watchedNamespace, "tools", mcp.URL)
	s.Spec.DisplayName = "  Tools  "
	if err := c.Create(ctx, s); err != nil {
		t.Fatalf("creating MCPServer %s/%s: %v", s.Namespace, s.Name, err)
	}
	key := client.ObjectKeyFromObject(s)
	got, err := harness.WaitMCPServer(ctx, c, key, 30*time.Second, harness.IsReady, nil)
	if err != nil {
		t.Fatalf("the manager did not make the MCPServer Ready: %v", err)
	}
	if got.Spec.DisplayName != "Tools" {
		t.Errorf("spec.displayName = %q, want it trimmed by the mutating webhook", got.Spec.DisplayName)
	}
	if !controllerutil.ContainsFinalizer(got, mcpv1.Finalizer) {
		t.Fatalf("the Ready MCPServer has no finalizer %s: deleting it would prove nothing", mcpv1.Finalizer)
	}
	whileReady(got)

	if err := c.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, harness.PollInterval, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, key, &mcpv1.MCPServer{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Errorf("the deleted MCPServer is still there (the manager did not release its finalizer): %v", err)
	}
}

// rbacDenial matches the API server's RBAC refusal as client-go logs it
// (quotes escaped in the JSON log): `User "system:serviceaccount:ns:sa"
// cannot create resource "events" in API group "" in the namespace "ns"`.
var rbacDenial = regexp.MustCompile(`cannot [a-z]+ resource \\?"[^"\\]*\\?" in API group \\?"[^"\\]*\\?"( in the namespace \\?"[^"\\]*\\?")?`)

// checkNoRBACDenial fails the test for each request of the manager that the
// manifest's RBAC refused, even one that did not keep the MCPServer from
// becoming Ready: an event refused, a lease the manager could not renew.
func checkNoRBACDenial(t *testing.T, logPath string) {
	t.Helper()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	denials := sets.New[string]()
	for _, d := range rbacDenial.FindAllString(string(data), -1) {
		denials.Insert(strings.ReplaceAll(d, `\"`, `"`))
	}
	for _, d := range sets.List(denials) {
		t.Errorf("the manifest's RBAC refused the manager: %s", d)
	}
}

// startControlPlane starts kube-apiserver and etcd with RBAC and
// OwnerReferencesPermissionEnforcement, none of our CRDs (the manifest
// brings its own) and the stand-in CRDs of cert-manager and the Prometheus
// operator that test/install uses, so that every object of the manifests
// but the Deployment can be applied. Without kube-controller-manager:
// nothing here deletes a namespace or relies on garbage collection.
func startControlPlane(t *testing.T) *rest.Config {
	t.Helper()
	env, err := envtestutil.NewEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	env.CRDDirectoryPaths = nil
	env.ErrorIfCRDPathMissing = false
	env.CRDInstallOptions.Paths = []string{filepath.Join("..", "testdata", "standin-crds.yaml")}
	env.CRDInstallOptions.ErrorIfPathMissing = true
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", harness.EnforcingAdmissionPlugins...)
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd from %s: %v", env.BinaryAssetsDirectory, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return cfg
}

func newClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	scheme := envtestutil.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// install applies objs for real with server-side apply, as an admin's
// `kubectl apply --server-side` would: the CRDs and namespaces first (and
// the namespaces objects name without rendering them, as helm install
// --create-namespace makes the release's), then everything else but the
// Deployment, which no kubelet would run, and the webhook configurations,
// which RegisterWebhooks applies pointed at the manager process.
func install(ctx context.Context, t *testing.T, cfg *rest.Config, objs []*unstructured.Unstructured) {
	t.Helper()
	c := newClient(t, cfg)
	first := harness.OfKinds(objs, "CustomResourceDefinition", "Namespace")
	if err := harness.Apply(ctx, c, "", first); err != nil {
		t.Fatal(err)
	}
	skip := sets.New(append([]string{"CustomResourceDefinition", "Namespace", "Deployment"}, harness.WebhookConfigurationKinds...)...)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if skip.Has(o.GetKind()) {
			continue
		}
		rest = append(rest, o)
		if ns := o.GetNamespace(); ns != "" {
			if err := harness.EnsureNamespace(ctx, c, ns); err != nil {
				t.Fatal(err)
			}
		}
	}
	crds := harness.OfKinds(objs, "CustomResourceDefinition")
	if len(crds) == 0 {
		t.Fatal("the manifest holds no CRD")
	}
	for _, crd := range crds {
		if err := harness.WaitCRDEstablished(ctx, c, crd.GetName()); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh client: its REST mapper discovers the CRDs just installed.
	if err := harness.Apply(ctx, newClient(t, cfg), "", rest); err != nil {
		t.Fatal(err)
	}
}

// managerPod is what the test takes from the manager's pod template.
type managerPod struct {
	serviceAccount string
	args           []string
	// containerPorts are the manager container's ports by name.
	containerPorts map[string]int64
	// mounts are the Secrets mounted into the manager container, by path.
	mounts map[string]string
}

// secretMountedAt is the name of the Secret mounted at path, or "".
func (p managerPod) secretMountedAt(path string) string {
	return p.mounts[strings.TrimSuffix(path, "/")]
}

func podSpec(t *testing.T, d *unstructured.Unstructured) managerPod {
	t.Helper()
	pod, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	sa, _, _ := unstructured.NestedString(pod, "serviceAccountName")
	secrets := map[string]string{} // volume name -> Secret name
	volumes, _, _ := unstructured.NestedSlice(pod, "volumes")
	for _, v := range volumes {
		volume, _ := v.(map[string]any)
		name, _, _ := unstructured.NestedString(volume, "name")
		secrets[name], _, _ = unstructured.NestedString(volume, "secret", "secretName")
	}
	containers, _, _ := unstructured.NestedSlice(pod, "containers")
	for _, c := range containers {
		container, ok := c.(map[string]any)
		if !ok || container["name"] != "manager" {
			continue
		}
		p := managerPod{serviceAccount: sa, containerPorts: map[string]int64{}, mounts: map[string]string{}}
		var err error
		if p.args, _, err = unstructured.NestedStringSlice(container, "args"); err != nil {
			t.Fatalf("Deployment %s: the manager container's args: %v", d.GetName(), err)
		}
		ports, _, _ := unstructured.NestedSlice(container, "ports")
		for _, cp := range ports {
			port, _ := cp.(map[string]any)
			name, _, _ := unstructured.NestedString(port, "name")
			p.containerPorts[name], _ = intField(port, "containerPort")
		}
		mounts, _, _ := unstructured.NestedSlice(container, "volumeMounts")
		for _, m := range mounts {
			mount, _ := m.(map[string]any)
			name, _, _ := unstructured.NestedString(mount, "name")
			path, _, _ := unstructured.NestedString(mount, "mountPath")
			p.mounts[strings.TrimSuffix(path, "/")] = secrets[name]
		}
		return p
	}
	t.Fatalf("Deployment %s has no container named manager", d.GetName())
	return managerPod{}
}

// localArgs are the Deployment's args with the flags of set replaced (or
// added when absent): what a process outside the cluster needs instead of
// the pod's addresses, mounts and in-cluster credentials. Every other flag
// (leader election, the callback URL, watched namespaces) is the
// manifest's. Only the --name=value and --name forms are understood, so
// that no flag's value is mistaken for another flag.
func localArgs(args []string, set map[string]string) ([]string, error) {
	var out []string
	done := sets.New[string]()
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" {
			return nil, fmt.Errorf("argument %q is not of the form --name=value", a)
		}
		if v, ok := set[name]; ok {
			a = "--" + name + "=" + v
			done.Insert(name)
		}
		out = append(out, a)
	}
	for _, name := range sets.List(sets.KeySet(set).Difference(done)) {
		out = append(out, "--"+name+"="+set[name])
	}
	return out, nil
}

// validatingWebhookName is the name of the manifest's one validating
// webhook: the API server names it when the webhook refuses.
func validatingWebhookName(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	configs := harness.OfKinds(objs, "ValidatingWebhookConfiguration")
	if len(configs) != 1 {
		t.Fatalf("the manifest holds %d ValidatingWebhookConfigurations, want 1", len(configs))
	}
	hooks, _, _ := unstructured.NestedSlice(configs[0].Object, "webhooks")
	if len(hooks) != 1 {
		t.Fatalf("ValidatingWebhookConfiguration %s holds %d webhooks, want 1", configs[0].GetName(), len(hooks))
	}
	name, _, _ := unstructured.NestedString(hooks[0].(map[string]any), "name")
	return name
}

func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// logTail logs the end of the manager's log when a case failed.
func logTail(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.Logf("reading %s: %v", path, err)
		}
		return
	}
	const maxTail = 20000
	if len(data) > maxTail {
		data = data[len(data)-maxTail:]
	}
	t.Logf("%s (tail):\n%s", path, data)
}

// checkWebhookWiring checks, in the manifest, what RegisterWebhooks
// bypasses: in a cluster the API server reaches each webhook through the
// Service its clientConfig names, which must select the manager's pods and
// lead to the port the manager serves webhooks on, and the manager reads
// its serving certificate from the Secret mounted at --webhook-cert-dir,
// which the manifest must provide or have cert-manager issue for that
// Service's name.
func checkWebhookWiring(t *testing.T, objs []*unstructured.Unstructured, manager *unstructured.Unstructured, spec managerPod) {
	t.Helper()
	// The manager's defaults (cmd/manager) when the args do not say.
	webhookPort, certDir := int64(9443), "/tmp/k8s-webhook-server/serving-certs"
	for _, a := range spec.args {
		if v, ok := strings.CutPrefix(a, "--webhook-bind-address="); ok {
			_, port, err := net.SplitHostPort(v)
			if err != nil {
				t.Fatalf("--webhook-bind-address=%s: %v", v, err)
			}
			if webhookPort, err = strconv.ParseInt(port, 10, 32); err != nil {
				t.Fatalf("--webhook-bind-address=%s: %v", v, err)
			}
		}
		if v, ok := strings.CutPrefix(a, "--webhook-cert-dir="); ok {
			certDir = v
		}
	}
	namespace := manager.GetNamespace()
	podLabels, _, _ := unstructured.NestedStringMap(manager.Object, "spec", "template", "metadata", "labels")

	for _, config := range harness.OfKinds(objs, harness.WebhookConfigurationKinds...) {
		hooks, _, _ := unstructured.NestedSlice(config.Object, "webhooks")
		for _, h := range hooks {
			hook, _ := h.(map[string]any)
			hookName, _, _ := unstructured.NestedString(hook, "name")
			ref, _, _ := unstructured.NestedStringMap(hook, "clientConfig", "service")
			port, found := intField(hook, "clientConfig", "service", "port")
			if !found {
				port = 443 // the API's default
			}
			svc := find(objs, "Service", ref["namespace"], ref["name"])
			if svc == nil {
				t.Errorf("webhook %s calls Service %s/%s, which the manifest does not hold", hookName, ref["namespace"], ref["name"])
				continue
			}
			selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
			if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(podLabels)) {
				t.Errorf("Service %s's selector %v does not select the manager's pods (labels %v)", svc.GetName(), selector, podLabels)
			}
			if got := targetContainerPort(t, svc, port, spec); got != webhookPort {
				t.Errorf("webhook %s: Service %s port %d leads to container port %d, but the manager serves webhooks on %d",
					hookName, svc.GetName(), port, got, webhookPort)
			}
			checkServingCertSecret(t, objs, namespace, spec.secretMountedAt(certDir), ref["name"]+"."+ref["namespace"]+".svc")
		}
	}
}

// targetContainerPort is the manager container's port that port of svc
// leads to, or 0.
func targetContainerPort(t *testing.T, svc *unstructured.Unstructured, port int64, spec managerPod) int64 {
	t.Helper()
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	for _, p := range ports {
		sp, _ := p.(map[string]any)
		if n, _ := intField(sp, "port"); n != port {
			continue
		}
		if target, ok := sp["targetPort"].(string); ok {
			return spec.containerPorts[target]
		}
		if target, ok := intField(sp, "targetPort"); ok {
			return target
		}
		return port // no targetPort: the same as port
	}
	return 0
}

// checkServingCertSecret checks that the Secret secret of namespace holds a
// serving certificate: rendered into the manifest with tls.crt and tls.key,
// or issued by a cert-manager Certificate of the manifest for dnsName.
func checkServingCertSecret(t *testing.T, objs []*unstructured.Unstructured, namespace, secret, dnsName string) {
	t.Helper()
	if secret == "" {
		t.Error("no Secret volume is mounted at the manager's --webhook-cert-dir")
		return
	}
	if s := find(objs, "Secret", namespace, secret); s != nil {
		data, _, _ := unstructured.NestedStringMap(s.Object, "data")
		if data["tls.crt"] == "" || data["tls.key"] == "" {
			t.Errorf("Secret %s, mounted at --webhook-cert-dir, lacks tls.crt or tls.key", secret)
		}
		return
	}
	for _, cert := range harness.OfKinds(objs, "Certificate") {
		name, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
		if cert.GetNamespace() != namespace || name != secret {
			continue
		}
		dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
		if !slices.Contains(dnsNames, dnsName) {
			t.Errorf("Certificate %s is issued for %v, not for %s that the API server calls", cert.GetName(), dnsNames, dnsName)
		}
		return
	}
	t.Errorf("nothing in the manifest provides Secret %s/%s, mounted at --webhook-cert-dir", namespace, secret)
}

// intField is the integer at fields of obj, however the decoder typed it.
func intField(obj map[string]any, fields ...string) (int64, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if !found || err != nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// find is the object of objs of kind in namespace with name, or nil.
func find(objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

// checkMetrics scrapes the manager's metrics endpoint as a ServiceAccount
// bound to the manifest's metrics reader ClusterRole and expects want
// among the series, then as one not bound and expects 403: the manager
// authenticates and authorizes every scrape through the API server, with
// the TokenReview and SubjectAccessReview rights the manifest grants it.
func checkMetrics(ctx context.Context, t *testing.T, cfg *rest.Config, c client.Client, objs []*unstructured.Unstructured, url, want string) {
	t.Helper()
	reader := metricsReaderRole(t, objs)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scraper", "stranger"} {
		if err := c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: watchedNamespace, Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scraper"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: watchedNamespace, Name: "scraper"}},
	}); err != nil {
		t.Fatal(err)
	}
	scrape := func(sa string) (int, string) {
		t.Helper()
		tr, err := cs.CoreV1().ServiceAccounts(watchedNamespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tr.Status.Token)
		// The manager serves metrics with a certificate it generates at
		// start; in a cluster Prometheus skips its verification too.
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("scraping %s as %s: %v", url, sa, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	status, body := scrape("scraper")
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("scraping as a ServiceAccount bound to ClusterRole %s: %d, want 200 with %s:\n%.2000s", reader, status, want, body)
	}
	if status, _ := scrape("stranger"); status != http.StatusForbidden {
		t.Errorf("scraping as a ServiceAccount without a binding: %d, want 403", status)
	}
}

// metricsReaderRole is the name of the manifest's ClusterRole that grants
// get on /metrics.
func metricsReaderRole(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	for _, role := range harness.OfKinds(objs, "ClusterRole") {
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			urls, _, _ := unstructured.NestedStringSlice(rule, "nonResourceURLs")
			verbs, _, _ := unstructured.NestedStringSlice(rule, "verbs")
			if slices.Contains(urls, "/metrics") && slices.Contains(verbs, "get") {
				return role.GetName()
			}
		}
	}
	t.Fatal("no ClusterRole of the manifest grants get on /metrics")
	return ""
}
