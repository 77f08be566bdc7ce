package install

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"

	"github.com/mcp-operator/mcp-operator/test/harness"
)

// can is one row of the chart's least-privilege contract: whether the
// ServiceAccount sa may do verb on resource of group in namespace ("" for
// every namespace).
type can struct {
	sa               string // namespace/name
	verb, group, res string
	namespace        string
	allowed          bool
}

// TestHelmRBAC installs the chart's RBAC for real, cluster-wide and
// namespace-scoped, and asks the API server what the manager's and the
// callback server's ServiceAccounts may do: the same contract as
// test/e2e/rbac_test.go for config/, so the two installs cannot drift
// apart. (Aggregation into view/edit/admin needs kube-controller-manager,
// which this control plane does not run; checkDefault checks the labels.)
func TestHelmRBAC(t *testing.T) {
	helmBin(t)
	const (
		mcp  = "mcpoperator.io"
		core = ""
	)
	cases := []struct {
		release, namespace string
		set                []string
		rows               []can
	}{{
		release: "cw", namespace: "cw-system",
		rows: []can{
			{"cw-system/cw-mcp-operator-manager", "list", core, "secrets", "", true},
			{"cw-system/cw-mcp-operator-manager", "create", core, "secrets", "team-x", true},
			{"cw-system/cw-mcp-operator-manager", "list", mcp, "mcpservers", "", true},
			{"cw-system/cw-mcp-operator-manager", "update", mcp, "mcpservers/status", "team-x", true},
			{"cw-system/cw-mcp-operator-manager", "update", mcp, "mcpservers/finalizers", "team-x", true},
			{"cw-system/cw-mcp-operator-manager", "create", mcp, "mcpservers", "team-x", false},
			{"cw-system/cw-mcp-operator-manager", "delete", mcp, "mcpservers", "team-x", false},
			{"cw-system/cw-mcp-operator-manager", "update", "coordination.k8s.io", "leases", "cw-system", true},
			{"cw-system/cw-mcp-operator-manager", "update", "coordination.k8s.io", "leases", "team-x", false},
			{"cw-system/cw-mcp-operator-manager", "create", "authentication.k8s.io", "tokenreviews", "", true},
			{"cw-system/cw-mcp-operator-manager", "get", core, "configmaps", "team-x", true}, // spec.caBundleRef
			{"cw-system/cw-mcp-operator-manager", "list", core, "configmaps", "team-x", false},
			{"cw-system/cw-mcp-operator-manager", "create", core, "pods", "team-x", false},
			{"cw-system/cw-mcp-operator-manager", "create", "rbac.authorization.k8s.io", "rolebindings", "team-x", false},
		},
	}, {
		release: "nsd", namespace: "nsd-system",
		set: []string{"manager.watchNamespaces={team-a,team-b}", "callback.enabled=true", "callback.namespace=chat"},
		rows: []can{
			// Only in the watched namespaces, in particular no Secret elsewhere.
			{"nsd-system/nsd-mcp-operator-manager", "list", core, "secrets", "team-a", true},
			{"nsd-system/nsd-mcp-operator-manager", "create", core, "secrets", "team-b", true},
			{"nsd-system/nsd-mcp-operator-manager", "list", core, "secrets", "", false},
			{"nsd-system/nsd-mcp-operator-manager", "get", core, "secrets", "team-x", false},
			{"nsd-system/nsd-mcp-operator-manager", "get", core, "secrets", "nsd-system", false},
			{"nsd-system/nsd-mcp-operator-manager", "list", mcp, "mcpservers", "team-a", true},
			{"nsd-system/nsd-mcp-operator-manager", "list", mcp, "mcpservers", "", false},
			{"nsd-system/nsd-mcp-operator-manager", "update", mcp, "mcpservers/status", "team-x", false},
			{"nsd-system/nsd-mcp-operator-manager", "update", "coordination.k8s.io", "leases", "nsd-system", true},
			// The callback server: its one namespace, Secrets by name only.
			{"chat/chat-mcp-callback", "get", core, "secrets", "chat", true},
			{"chat/chat-mcp-callback", "create", core, "secrets", "chat", true},
			{"chat/chat-mcp-callback", "list", core, "secrets", "chat", false},
			{"chat/chat-mcp-callback", "watch", core, "secrets", "chat", false},
			{"chat/chat-mcp-callback", "get", core, "secrets", "team-a", false},
			{"chat/chat-mcp-callback", "list", mcp, "mcpservers", "chat", true},
			{"chat/chat-mcp-callback", "watch", mcp, "mcpservers", "chat", true},
			{"chat/chat-mcp-callback", "watch", mcp, "mcpservers", "team-a", false},
			{"chat/chat-mcp-callback", "update", mcp, "mcpservers/finalizers", "chat", true},
			{"chat/chat-mcp-callback", "update", mcp, "mcpservers", "chat", false},
			{"chat/chat-mcp-callback", "update", mcp, "mcpservers/status", "chat", false},
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newClient(t)
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.release, func(t *testing.T) {
			args := []string{"template", tc.release, chartDir(), "--namespace", tc.namespace}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			objs, err := harness.DecodeManifests(runHelm(t, args...))
			if err != nil {
				t.Fatal(err)
			}
			rbac := harness.OfKinds(objs, harness.RBACKinds...)
			namespaces := sets.New[string]()
			for _, o := range rbac {
				if o.GetNamespace() != "" {
					namespaces.Insert(o.GetNamespace())
				}
			}
			for _, ns := range sets.List(namespaces) {
				if err := harness.EnsureNamespace(ctx, c, ns); err != nil {
					t.Fatal(err)
				}
			}
			if err := harness.Apply(ctx, c, "", rbac); err != nil {
				t.Fatal(err)
			}
			for _, row := range tc.rows {
				ns, name, _ := strings.Cut(row.sa, "/")
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   "system:serviceaccount:" + ns + ":" + name,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Verb: row.verb, Group: row.group, Resource: row.res, Namespace: row.namespace,
					},
				}}
				if res, sub, ok := strings.Cut(row.res, "/"); ok {
					sar.Spec.ResourceAttributes.Resource, sar.Spec.ResourceAttributes.Subresource = res, sub
				}
				got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Status.Allowed != row.allowed {
					t.Errorf("%s %s %s/%s in %q: allowed=%v, want %v", row.sa, row.verb, row.group, row.res, row.namespace, got.Status.Allowed, row.allowed)
				}
			}
		})
	}
}
