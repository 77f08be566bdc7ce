package mcpserver

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// secretRefIndex indexes MCPServers by the names of the Secrets they reference.
const secretRefIndex = "spec.auth.secretRefs" //nolint:gosec // G101: an index name, not a credential

// referencedSecrets lists the names of the Secrets a server's spec points at.
func referencedSecrets(server *mcpv1.MCPServer) []string {
	auth := server.Spec.Auth
	var names []string
	if auth.APIKey != nil {
		names = append(names, auth.APIKey.SecretKeyRef.Name)
	}
	if auth.Headers != nil {
		names = append(names, auth.Headers.SecretRef.Name)
	}
	if auth.OAuth2 != nil && auth.OAuth2.ClientSecretRef != nil {
		names = append(names, auth.OAuth2.ClientSecretRef.Name)
	}
	if ref := server.Spec.CABundleRef; ref != nil && ref.SecretKeyRef != nil {
		names = append(names, ref.SecretKeyRef.Name)
	}
	return names
}

func indexSecretRefs(obj client.Object) []string {
	return referencedSecrets(obj.(*mcpv1.MCPServer))
}

// secretHandler maps a Secret event to the MCPServers that reference the
// Secret by name, plus the MCPServer whose client Secret it is. Per-user token
// Secrets are owned by an MCPServer too but must not wake it: a refresh is
// not a reason to reconcile the server.
func (r *Reconciler) secretHandler() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, secret client.Object) []reconcile.Request {
		var requests []reconcile.Request
		servers := &mcpv1.MCPServerList{}
		if err := r.List(ctx, servers, client.InNamespace(secret.GetNamespace()),
			client.MatchingFields{secretRefIndex: secret.GetName()}); err == nil {
			for _, s := range servers.Items {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
			}
		}
		for _, owner := range secret.GetOwnerReferences() {
			if owner.Kind == "MCPServer" && owner.APIVersion == mcpv1.GroupVersion.String() &&
				secret.GetName() == mcpv1.ClientSecretName(owner.Name) {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKey{
					Namespace: secret.GetNamespace(), Name: owner.Name}})
			}
		}
		return requests
	})
}
