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
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
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
// webhooks default and refuse, and deleting the MCPServer releases its
// finalizer.
func TestWorkingInstall(t *testing.T) {
	// envtest logs through controller-runtime; what matters here is
	// returned as errors or is in the manager's log.
	logf.SetLogger(logr.Discard())
	root := envtestutil.RepoRoot()
	bins, err := harness.BuildBinaries(root, t.TempDir())
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
		cmd := exec.Command(bin, "template", "mcp-operator", filepath.Join(root, "charts", "mcp-operator"),
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
	probeAddr := freeAddr(t)
	args, err := localArgs(spec.args, map[string]string{
		"kubeconfig":                kubeconfig,
		"health-probe-bind-address": probeAddr,
		"metrics-bind-address":      freeAddr(t),
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

	checkMCPServerLifecycle(ctx, t, admin, validatingWebhookName(t, objs))

	// Stopped first, so that the events it still had to send are sent.
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	checkNoRBACDenial(t, p.LogPath)
	t.Logf("a working install in %s", time.Since(start).Round(100*time.Millisecond))
}

// checkMCPServerLifecycle proves what the install is for: the webhooks
// refuse an invalid MCPServer and default a valid one, the manager makes
// it Ready, and deleting it releases the manager's finalizer.
func checkMCPServerLifecycle(ctx context.Context, t *testing.T, c client.Client, validatingWebhook string) {
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
	for _, denial := range sets.List(sets.New(rbacDenial.FindAllString(string(data), -1)...)) {
		t.Errorf("the manifest's RBAC refused the manager: %s", strings.ReplaceAll(denial, `\"`, `"`))
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
		waitEstablished(ctx, t, c, crd.GetName())
	}
	// A fresh client: its REST mapper discovers the CRDs just installed.
	if err := harness.Apply(ctx, newClient(t, cfg), "", rest); err != nil {
		t.Fatal(err)
	}
}

func waitEstablished(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return false, err
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD %s not established: %v", name, err)
	}
}

// managerPod is what the test takes from the manager's pod template.
type managerPod struct {
	serviceAccount string
	args           []string
}

func podSpec(t *testing.T, d *unstructured.Unstructured) managerPod {
	t.Helper()
	sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		container, ok := c.(map[string]any)
		if !ok || container["name"] != "manager" {
			continue
		}
		args, _, err := unstructured.NestedStringSlice(container, "args")
		if err != nil {
			t.Fatalf("Deployment %s: the manager container's args: %v", d.GetName(), err)
		}
		return managerPod{serviceAccount: sa, args: args}
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
