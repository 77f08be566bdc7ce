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

// WaitOrphansCollected waits until no Secret in namespace has a controller
// MCPServer that no longer exists: the garbage collector of the control
// plane's kube-controller-manager deletes them.
func WaitOrphansCollected(ctx context.Context, c client.Client, namespace string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		orphans, err := orphanedSecrets(ctx, c, namespace)
		if err != nil {
			return err
		}
		if len(orphans) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the garbage collector did not delete Secrets %v in %s within %s: is kube-controller-manager running?", orphans, namespace, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(PollInterval):
		}
	}
}

// orphanedSecrets are the names of the Secrets in namespace whose
// controller MCPServer no longer exists.
func orphanedSecrets(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	list := &corev1.SecretList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing Secrets in %s: %w", namespace, err)
	}
	var orphans []string
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
			return nil, fmt.Errorf("reading MCPServer %s/%s: %w", namespace, ref.Name, err)
		}
		orphans = append(orphans, sec.Name)
	}
	return orphans, nil
}
