package envtestutil

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// NewScheme is a scheme with the built-in types and the MCPServer API, as
// the manager and the callback server register them.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(mcpv1.AddToScheme(s))
	return s
}

// NamespaceOption changes a namespace before NewNamespace creates it.
type NamespaceOption func(*corev1.Namespace)

// WithLabels labels the namespace.
func WithLabels(labels map[string]string) NamespaceOption {
	return func(ns *corev1.Namespace) { ns.Labels = labels }
}

// NewNamespace creates a namespace of its own for one test, named prefix-
// plus a random suffix the API server picks, and returns its name.
func NewNamespace(ctx context.Context, c client.Client, prefix string, opts ...NamespaceOption) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	for _, o := range opts {
		o(ns)
	}
	if err := c.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating a namespace %s-*: %w", prefix, err)
	}
	return ns.Name, nil
}
