package envtestutil_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

// Two namespaces from one prefix are distinct, carry the prefix and the
// labels asked for.
func TestNewNamespace(t *testing.T) {
	env, cfg, err := envtestutil.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: envtestutil.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := envtestutil.NewNamespace(ctx, c, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	b, err := envtestutil.NewNamespace(ctx, c, "fixture", envtestutil.WithLabels(map[string]string{"team": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(a, "fixture-") || !strings.HasPrefix(b, "fixture-") {
		t.Errorf("namespaces %q and %q: want two distinct fixture-* names", a, b)
	}
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: b}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels["team"] != "a" {
		t.Errorf("labels of %s: %v, want team=a", b, ns.Labels)
	}
}
