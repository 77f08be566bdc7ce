package harness

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// DeleteMCPServers deletes every MCPServer in namespace and waits until they
// are gone: the running manager deletes each client registration and removes
// its finalizer. Finalizers still there after timeout (no manager running)
// are removed so the namespace is left clean.
func DeleteMCPServers(ctx context.Context, c client.Client, namespace string, timeout time.Duration) error {
	if err := c.DeleteAllOf(ctx, &mcpv1.MCPServer{}, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("deleting MCPServers in %s: %w", namespace, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		list := &mcpv1.MCPServerList{}
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return fmt.Errorf("listing MCPServers in %s: %w", namespace, err)
		}
		if len(list.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for i := range list.Items {
				s := &list.Items[i]
				if controllerutil.RemoveFinalizer(s, mcpv1.Finalizer) {
					if err := c.Update(ctx, s); err != nil && !apierrors.IsNotFound(err) {
						return fmt.Errorf("removing the finalizer of MCPServer %s/%s: %w", namespace, s.Name, err)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(PollInterval):
		}
	}
}

// CollectGarbage deletes the Secrets in namespace whose controller owner no
// longer exists, as the garbage collector of a real cluster would (the local
// control plane runs no kube-controller-manager).
func CollectGarbage(ctx context.Context, c client.Client, namespace string) (int, error) {
	list := &corev1.SecretList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("listing Secrets in %s: %w", namespace, err)
	}
	n := 0
	for i := range list.Items {
		sec := &list.Items[i]
		ref := metav1.GetControllerOf(sec)
		if ref == nil || ref.Kind != "MCPServer" {
			continue
		}
		owner := &mcpv1.MCPServer{}
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, owner)
		if err == nil && owner.UID == ref.UID {
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return n, fmt.Errorf("reading MCPServer %s/%s: %w", namespace, ref.Name, err)
		}
		if err := c.Delete(ctx, sec); err != nil && !apierrors.IsNotFound(err) {
			return n, fmt.Errorf("deleting orphaned Secret %s/%s: %w", namespace, sec.Name, err)
		}
		n++
	}
	return n, nil
}
