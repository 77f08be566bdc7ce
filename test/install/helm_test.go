package install

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

var update = flag.Bool("update", false, "rewrite the Helm golden files under testdata/helm")

const (
	releaseName      = "mcp-operator"
	releaseNamespace = "mcp-operator-system"
)

// helmCases are the value sets the chart is checked with: each
// testdata/helm/<name>.values.yaml renders to <name>.golden.yaml, and check
// asserts what that value set is for.
var helmCases = []struct {
	name  string
	check func(t *testing.T, objs []*unstructured.Unstructured)
}{
	{"default", checkDefault},
	{"namespaced-certmanager", checkNamespacedCertManager},
	{"minimal", checkMinimal},
}

func chartDir() string { return filepath.Join(envtestutil.RepoRoot(), "charts", "mcp-operator") }

// helmBin is the pinned helm; `make test` sets HELM. Without it the Helm
// tests skip: helm is a tool built into bin/, not a module dependency.
func helmBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Skip("HELM is not set: run `make helm` and set HELM=bin/helm-<version> (make test does)")
	}
	return bin
}

func runHelm(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

func valuesFile(name string) string { return filepath.Join("testdata", "helm", name+".values.yaml") }

func TestHelmLint(t *testing.T) {
	helmBin(t) // skip once, not per value set
	for _, tc := range helmCases {
		t.Run(tc.name, func(t *testing.T) {
			runHelm(t, "lint", "--strict", chartDir(), "--namespace", releaseNamespace, "--values", valuesFile(tc.name))
		})
	}
}

// TestHelmSchemaRejects proves values.schema.json is enforced: a typo in a
// value name fails the install instead of being silently ignored.
func TestHelmSchemaRejects(t *testing.T) {
	bin := helmBin(t)
	for _, set := range []string{"manager.replica=2", "webhooks.failurePolicy=Sometimes", "manager.callbackURL=http://plain.example.com"} {
		out, err := exec.Command(bin, "template", releaseName, chartDir(), "--set", set).CombinedOutput()
		if err == nil {
			t.Errorf("helm template --set %s: rendered, want a schema error", set)
		} else if !strings.Contains(string(out), "schema") {
			t.Errorf("helm template --set %s failed, but not on the schema: %s", set, out)
		}
	}
}

// generatedCert matches the lines holding the certificate and key the chart
// generates at each render (self-signed webhooks): golden files hold a
// placeholder, the dry run the real thing.
var generatedCert = regexp.MustCompile(`(?m)^(\s*(?:ca\.crt|tls\.crt|tls\.key|caBundle):) \S+$`)

// crdSpec matches the spec of the rendered CRD: the last top-level key of
// its document (toYaml sorts keys), up to the next document.
var crdSpec = regexp.MustCompile(`(?s)(\nkind: CustomResourceDefinition\n.*?\n)spec:\n.*?(\n---\n|$)`)

// normalize makes a rendering comparable with its golden file: the generated
// certificates become a placeholder, and so does the CRD's spec, which
// checkDefault compares with config/crd/bases instead, so that an API
// change does not also need new golden files.
func normalize(out []byte) []byte {
	out = generatedCert.ReplaceAll(out, []byte("$1 GENERATED"))
	return crdSpec.ReplaceAll(out, []byte("${1}spec: SAME AS config/crd/bases${2}"))
}

// TestHelmTemplate renders each value set, compares it with its golden file,
// checks what the value set is for, and dry-runs it on a kube-apiserver.
func TestHelmTemplate(t *testing.T) {
	helmBin(t)
	for _, tc := range helmCases {
		t.Run(tc.name, func(t *testing.T) {
			out := runHelm(t, "template", releaseName, chartDir(), "--namespace", releaseNamespace, "--values", valuesFile(tc.name))

			golden := filepath.Join("testdata", "helm", tc.name+".golden.yaml")
			normalized := normalize(out)
			if *update {
				if err := os.WriteFile(golden, normalized, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading %s (go test ./test/install -run TestHelmTemplate -update writes it): %v", golden, err)
			}
			if !bytes.Equal(normalized, want) {
				t.Errorf("helm template with %s differs from %s; review the change and run go test ./test/install -run TestHelmTemplate -update", valuesFile(tc.name), golden)
			}

			objs, err := harness.DecodeManifests(out)
			if err != nil {
				t.Fatalf("decoding the rendering: %v", err)
			}
			tc.check(t, objs)
			if len(harness.OfKinds(objs, "CustomResourceDefinition")) == 0 {
				// crds.enabled=false: the CRD is someone else's; install
				// config's so the rest can be admitted.
				crds, err := harness.ReadManifests(filepath.Join(envtestutil.RepoRoot(), "config", "crd", "bases"))
				if err != nil {
					t.Fatal(err)
				}
				objs = append(crds, objs...)
			}
			dryRunInstall(t, objs)
		})
	}
}

func one(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	d := one(t, objs, "Deployment", "mcp-operator-manager")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}

func wantArgs(t *testing.T, args []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, a := range args {
			found = found || a == w
		}
		if !found {
			t.Errorf("the manager's args %v lack %s", args, w)
		}
	}
}

func checkDefault(t *testing.T, objs []*unstructured.Unstructured) {
	// The CRD is the generated one, unchanged by the template, and
	// survives helm uninstall.
	crd := one(t, objs, "CustomResourceDefinition", "mcpservers.mcpoperator.io")
	if got := crd.GetAnnotations()["helm.sh/resource-policy"]; got != "keep" {
		t.Errorf("CRD annotation helm.sh/resource-policy = %q, want keep", got)
	}
	bases, err := harness.ReadManifests(filepath.Join(envtestutil.RepoRoot(), "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(crd.Object["spec"], bases[0].Object["spec"]) {
		t.Error("the chart's CRD spec differs from config/crd/bases: run make manifests")
	}

	wantArgs(t, managerArgs(t, objs), "--leader-elect=true", "--callback-url=https://chat.example.com/mcp-auth")
	one(t, objs, "PodDisruptionBudget", "mcp-operator-manager")
	one(t, objs, "ClusterRoleBinding", "mcp-operator-manager")
	one(t, objs, "Service", "mcp-operator-metrics")
	for _, r := range []string{"view", "edit", "admin"} {
		role := one(t, objs, "ClusterRole", "mcp-operator-mcpserver-"+r)
		if role.GetLabels()["rbac.authorization.k8s.io/aggregate-to-"+r] != "true" {
			t.Errorf("ClusterRole %s is not aggregated to %s", role.GetName(), r)
		}
	}

	// The generated serving certificate is valid for the webhook Service's
	// name under the CA both webhook configurations carry.
	secret := one(t, objs, "Secret", "mcp-operator-webhook-server-cert")
	data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, o := range harness.OfKinds(objs, kind) {
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			bundle, _, _ := unstructured.NestedString(hooks[0].(map[string]any), "clientConfig", "caBundle")
			if bundle != data["ca.crt"] {
				t.Errorf("%s's caBundle is not the Secret's ca.crt", o.GetName())
			}
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(decodeB64(t, data["ca.crt"]))
	block, _ := pem.Decode(decodeB64(t, data["tls.crt"]))
	if block == nil {
		t.Fatal("tls.crt holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "mcp-operator-webhook-service.mcp-operator-system.svc"}); err != nil {
		t.Errorf("the webhook certificate does not verify for the Service's name: %v", err)
	}
}

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkNamespacedCertManager(t *testing.T, objs []*unstructured.Unstructured) {
	wantArgs(t, managerArgs(t, objs), "--watch-namespaces=team-a,team-b")
	// No cluster-wide grant of the manager's rules: only RoleBindings in
	// the watched namespaces.
	for _, o := range harness.OfKinds(objs, "ClusterRoleBinding") {
		if o.GetName() == "mcp-operator-manager" {
			t.Error("a namespace-scoped install binds the manager's rules cluster-wide")
		}
	}
	for _, ns := range []string{"team-a", "team-b"} {
		found := false
		for _, o := range harness.OfKinds(objs, "RoleBinding") {
			found = found || (o.GetName() == "mcp-operator-manager" && o.GetNamespace() == ns)
		}
		if !found {
			t.Errorf("no RoleBinding of the manager's rules in %s", ns)
		}
	}
	one(t, objs, "Certificate", "mcp-operator-serving-cert")
	one(t, objs, "Issuer", "mcp-operator-selfsigned-issuer")
	one(t, objs, "ServiceMonitor", "mcp-operator-manager")
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, o := range harness.OfKinds(objs, kind) {
			if got := o.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != "mcp-operator-system/mcp-operator-serving-cert" {
				t.Errorf("%s: cert-manager.io/inject-ca-from = %q", o.GetName(), got)
			}
		}
	}
	if len(harness.OfKinds(objs, "Secret")) != 0 {
		t.Error("with cert-manager the chart must not generate the certificate Secret")
	}
	egress := one(t, objs, "NetworkPolicy", "mcp-operator-manager-egress")
	rules, _, _ := unstructured.NestedSlice(egress.Object, "spec", "egress")
	to, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "to")
	except, _, _ := unstructured.NestedStringSlice(to[0].(map[string]any), "ipBlock", "except")
	if !reflect.DeepEqual(except, []string{"169.254.169.254/32"}) {
		t.Errorf("the egress policy's IPv4 block excepts %v, want the metadata address", except)
	}
	one(t, objs, "Role", "mcp-operator-callback")
}

func checkMinimal(t *testing.T, objs []*unstructured.Unstructured) {
	wantArgs(t, managerArgs(t, objs), "--enable-webhooks=false", "--metrics-bind-address=0", "--leader-elect=false", "--mcpserver-workers=8")
	got := kinds(objs)
	for _, kind := range []string{"CustomResourceDefinition", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
		"Secret", "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"} {
		if got[kind] != 0 {
			t.Errorf("the minimal values render a %s", kind)
		}
	}
}
