package controllers_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

// The manager's metadata watch of Secrets holds every Secret but users'
// token Secrets, which the refresher's own cache holds: at ten thousand
// users they were kept twice.
func TestManagerCacheLeavesOutTokenSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, cfg, err := envtestutil.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := envtestutil.NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := envtestutil.NewNamespace(ctx, c, "cache")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]*corev1.Secret{
		"api-key": {Type: corev1.SecretTypeOpaque},
		"client":  {Type: mcpv1.SecretTypeOAuth2Client},
		// A token Secret as the callback writes it, and a look-alike
		// without its labels, which an MCPServer might reference.
		"token":      {Type: mcpv1.SecretTypeUserToken, ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{mcpv1.LabelUserHash: "u"}}},
		"look-alike": {Type: mcpv1.SecretTypeUserToken},
	}
	for name, s := range secrets {
		s.Namespace, s.Name = ns, name
		if err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	opts := controllers.CacheOptions()
	opts.Scheme = scheme
	cached, err := cache.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = cached.Start(ctx) }()
	if !cached.WaitForCacheSync(ctx) {
		t.Fatal("the cache did not start")
	}
	get := func(name string) error {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		return cached.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)
	}
	for _, name := range []string{"api-key", "client", "look-alike"} {
		if err := get(name); err != nil {
			t.Errorf("Secret %s is not in the manager's cache: %v", name, err)
		}
	}
	if err := get("token"); !apierrors.IsNotFound(err) {
		t.Errorf("a token Secret is in the manager's cache (err %v): the refresher's cache holds it", err)
	}
}
