// Package install checks the manifests users install from: dist/install.yaml
// and the Helm chart in charts/mcp-operator. Each is applied to a real
// kube-apiserver: its CRDs and namespaces for real (nothing else can be
// admitted without them), every other object with a server-side-apply
// dry run, so the API server's schema validation, defaulting and admission
// see exactly what a user's `kubectl apply` or `helm install` would send.
package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// fieldOwner is the server-side-apply field manager of this suite.
const fieldOwner = "mcp-operator-install-test"

// restConfig is the control plane shared by every test of the package: a
// kube-apiserver and etcd with no CRD of ours installed (each test installs
// the CRD from the manifest it checks) and the stand-in CRDs of
// testdata/standin-crds.yaml.
var restConfig *rest.Config

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, err := envtestutil.NewEnvironment()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The CRD under test comes from the manifest under test, not config/.
	env.CRDDirectoryPaths = nil
	env.ErrorIfCRDPathMissing = false
	env.CRDInstallOptions.Paths = []string{filepath.Join("testdata", "standin-crds.yaml")}
	env.CRDInstallOptions.ErrorIfPathMissing = true
	restConfig, err = env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting kube-apiserver and etcd from %s: %v\n", env.BinaryAssetsDirectory, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	return m.Run()
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	c, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	return c
}

// dryRunInstall installs objs' CRDs and namespaces for real, waits until the
// CRDs are served, then dry-runs every other object with server-side apply.
// It fails the test for each object the API server refuses, naming it.
func dryRunInstall(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newClient(t)

	var crds, namespaces, rest []*unstructured.Unstructured
	wantNamespaces := sets.New[string]()
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			crds = append(crds, o)
		case "Namespace":
			namespaces = append(namespaces, o)
			wantNamespaces.Insert(o.GetName())
		default:
			rest = append(rest, o)
			if ns := o.GetNamespace(); ns != "" {
				wantNamespaces.Insert(ns)
			}
		}
	}
	if err := harness.Apply(ctx, c, "", append(crds, namespaces...)); err != nil {
		t.Fatalf("installing the CRDs and namespaces: %v", err)
	}
	// Namespaces a Helm release is installed into are not part of the chart
	// (helm install --create-namespace makes them); the watched namespaces
	// of a namespace-scoped install exist before it.
	for _, ns := range sets.List(wantNamespaces.Clone().Delete(names(namespaces)...)) {
		if err := harness.EnsureNamespace(ctx, c, ns); err != nil {
			t.Fatal(err)
		}
	}
	for _, crd := range crds {
		if err := harness.WaitCRDEstablished(ctx, c, crd.GetName()); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh client: its REST mapper discovers the CRDs just installed.
	c = newClient(t)
	for _, o := range rest {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			client.FieldOwner(fieldOwner), client.ForceOwnership, client.DryRunAll)
		if err != nil {
			t.Errorf("dry-run apply of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	t.Logf("installed %d CRDs and %d namespaces, dry-ran %d objects", len(crds), wantNamespaces.Len(), len(rest))
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

// kinds counts objs by kind.
func kinds(objs []*unstructured.Unstructured) map[string]int {
	n := map[string]int{}
	for _, o := range objs {
		n[o.GetKind()]++
	}
	return n
}
