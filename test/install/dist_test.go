package install

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// TestDistInstallManifest dry-runs dist/install.yaml, the single manifest of
// `kubectl apply -f`. `make verify` keeps it equal to config/default.
func TestDistInstallManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("reading dist/install.yaml (make build-installer writes it): %v", err)
	}
	objs, err := harness.DecodeManifests(data)
	if err != nil {
		t.Fatalf("decoding dist/install.yaml: %v", err)
	}
	// What a working install needs; a truncated or empty render would
	// otherwise dry-run cleanly.
	got := kinds(objs)
	for _, kind := range []string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
		"Role", "RoleBinding", "Deployment", "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
		"Certificate", "Issuer"} {
		if got[kind] == 0 {
			t.Errorf("dist/install.yaml has no %s (kinds: %v)", kind, got)
		}
	}
	dryRunInstall(t, objs)
}

// TestNoWebhookConfig dry-runs config/default-nowebhook, the install for
// clusters without cert-manager: no webhook configuration may point the API
// server at a webhook the manager does not serve, and nothing may need
// cert-manager's kinds.
func TestNoWebhookConfig(t *testing.T) {
	objs, err := harness.Kustomize(context.Background(), envtestutil.RepoRoot(), "config/default-nowebhook")
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(objs)
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Certificate", "Issuer"} {
		if got[kind] != 0 {
			t.Errorf("config/default-nowebhook renders a %s", kind)
		}
	}
	deployments := harness.OfKinds(objs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("config/default-nowebhook renders %d Deployments, want 1", len(deployments))
	}
	containers, _, _ := unstructured.NestedSlice(deployments[0].Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	if !slices.Contains(args, "--enable-webhooks=false") {
		t.Errorf("the manager's args %v lack --enable-webhooks=false: it would wait for a serving certificate", args)
	}
	dryRunInstall(t, objs)
}
