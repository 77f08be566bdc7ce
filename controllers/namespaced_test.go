package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/mcptest"
)

// A namespace-scoped install: the manager holds the shipped ClusterRole's
// rules only in the namespaces it watches (a RoleBinding there, no
// ClusterRoleBinding, as config/namespaced renders it), and works.
func TestWatchNamespacesWithNamespacedRBAC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, adminCfg, err := envtestutil.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := envtestutil.NewScheme()
	admin, err := client.New(adminCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	watched, err := envtestutil.NewNamespace(ctx, admin, "watched")
	if err != nil {
		t.Fatal(err)
	}
	other, err := envtestutil.NewNamespace(ctx, admin, "other")
	if err != nil {
		t.Fatal(err)
	}

	// The shipped manager ClusterRole, bound only in the watched namespace.
	role := &rbacv1.ClusterRole{}
	data, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, role); err != nil {
		t.Fatal(err)
	}
	const user = "namespaced-manager"
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: "mcp-operator-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	au, err := env.ControlPlane.AddUser(envtest.User{Name: user}, nil)
	if err != nil {
		t.Fatal(err)
	}

	mgr, err := ctrl.NewManager(au.Config(), ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  controllers.ClientOptions(),
		Cache:   controllers.CacheOptions(watched),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = controllers.SetupWithManager(ctx, mgr, controllers.Config{
		HTTPClient:      oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}),
		ResyncInterval:  time.Hour,
		CallbackURL:     "http://127.0.0.1:8090",
		WatchNamespaces: []string{watched},
	})
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stop := context.WithCancel(ctx)
	var startErr error
	stopped := make(chan struct{})
	go func() { startErr = mgr.Start(mgrCtx); close(stopped) }()
	t.Cleanup(func() { stop(); <-stopped })

	mcp := mcptest.NewServer("", "")
	t.Cleanup(mcp.Close)
	mine := fixture.MCPServer(watched, "mine", mcp.URL)
	theirs := fixture.MCPServer(other, "theirs", mcp.URL)
	for _, s := range []*mcpv1.MCPServer{mine, theirs} {
		if err := admin.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for !ready(ctx, admin, mine) {
		select {
		case <-stopped:
			t.Fatalf("the manager stopped: %v", startErr)
		case <-ctx.Done():
			t.Fatal("the server in the watched namespace never became Ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := admin.Get(ctx, client.ObjectKeyFromObject(theirs), theirs); err != nil {
		t.Fatal(err)
	}
	if len(theirs.Status.Conditions) != 0 {
		t.Fatalf("a server outside the watched namespaces was reconciled: %v", theirs.Status.Conditions)
	}
}

func ready(ctx context.Context, c client.Client, s *mcpv1.MCPServer) bool {
	got := &mcpv1.MCPServer{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
		return false
	}
	cond := meta.FindStatusCondition(got.Status.Conditions, mcpv1.ConditionReady)
	return cond != nil && cond.Status == metav1.ConditionTrue
}
