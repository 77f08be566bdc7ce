package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// loadClientSecret reads the server's client Secret straight from the API
// server (Secrets are not cached), so a restarted manager reuses the
// registration it made before.
func (r *Reconciler) loadClientSecret(ctx context.Context, run *oauth2Run) error {
	server := run.server
	run.invalidClient = tokensecret.ClientInvalid(server)
	secret, err := r.getClientSecret(ctx, server)
	if err != nil || secret == nil {
		return err
	}
	if !ownClientSecret(secret, server) {
		return stalled.Errorf(mcpv1.ReasonClientSecretConflict,
			"Secret %s/%s exists but is not an OAuth client Secret (type %s) owned by this MCPServer: delete or rename it so the operator can store the client there",
			secret.Namespace, secret.Name, mcpv1.SecretTypeOAuth2Client)
	}
	cl := serverconfig.ClientFromSecret(secret)
	if !secret.DeletionTimestamp.IsZero() {
		// Someone deleted the client Secret: that asks for a new client. The
		// old one is retired while its credentials can still be read.
		r.deletePendingRegistration(ctx, run.http, server, secret)
		if err := r.retireClient(ctx, run.http, server, &cl, "", "its client Secret was deleted"); err != nil {
			return err
		}
		return r.deleteClientSecret(ctx, secret)
	}
	run.secret, run.current = secret, &cl
	run.currentRedirect = string(secret.Data[mcpv1.ClientKeyRedirectURI])
	run.retiring, run.replaced = serverconfig.RetiringFromSecret(secret)
	return nil
}

// getClientSecret returns the server's <name>-oauth2-client Secret, nil when
// there is none.
func (r *Reconciler) getClientSecret(ctx context.Context, server *mcpv1.MCPServer) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: server.Namespace, Name: mcpv1.ClientSecretName(server.Name)}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading OAuth client Secret %s: %w", key, err)
	}
	return secret, nil
}

// clientSecretCached reports whether the manager's metadata cache knows
// the server's client Secret; true when it cannot tell. A Secret the cache
// has not seen yet wakes its MCPServer when it arrives (watches.go).
func (r *Reconciler) clientSecretCached(ctx context.Context, server *mcpv1.MCPServer) bool {
	if r.SecretMetadata == nil {
		return true
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.SecretMetadata.Get(ctx, types.NamespacedName{Namespace: server.Namespace, Name: mcpv1.ClientSecretName(server.Name)}, m)
	return !apierrors.IsNotFound(err)
}

// ownClientSecret: our type and controlled by this very MCPServer (UID).
// While the server is being deleted, a Secret with the operator's finalizer
// and the server's label is ours too: orphan deletion strips the owner
// reference before the finalizer runs.
func ownClientSecret(secret *corev1.Secret, server *mcpv1.MCPServer) bool {
	if secret.Type != mcpv1.SecretTypeOAuth2Client {
		return false
	}
	return metav1.IsControlledBy(secret, server) || (!server.DeletionTimestamp.IsZero() &&
		controllerutil.ContainsFinalizer(secret, mcpv1.Finalizer) && secret.Labels[mcpv1.LabelServer] == server.Name)
}

// writeClientSecret stores the client in <name>-oauth2-client, for every
// registration method, when its content changed, together with the client
// it replaces until that one is retired and the server's CA bundle (for the
// callback server's and the refresher's token requests). A client registered in this
// reconcile that cannot be stored is deleted again (best effort), so a
// failed write does not leave an orphaned registration behind.
func (r *Reconciler) writeClientSecret(ctx context.Context, run *oauth2Run) error {
	data := serverconfig.ClientSecretData(run.client, run.redirectURI)
	if len(run.caBundle) > 0 {
		data[mcpv1.ClientKeyCABundle] = run.caBundle
	}
	if run.retiring != nil {
		serverconfig.AddRetiring(data, run.retiring, run.replaced)
	}
	if run.secret != nil && maps.EqualFunc(run.secret.Data, data, bytes.Equal) &&
		controllerutil.ContainsFinalizer(run.secret, mcpv1.Finalizer) {
		return nil
	}
	stored, err := r.storeClientSecret(ctx, run.server, run.secret, data)
	if err != nil {
		if run.newClient {
			_ = oauth.DeleteRegistration(ctx, run.http, run.client)
		}
		return err
	}
	run.secret = stored
	if run.newClient && run.client.Method == oauth.MethodStatic {
		// Register counts CIMD and DCR itself.
		oauth.RecordRegistration(oauth.MethodStatic, nil)
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Stored OAuth client Secret", "secret", mcpv1.ClientSecretName(run.server.Name),
		"method", run.client.Method, "clientID", run.client.ClientID)
	return nil
}

// storeClientSecret creates the Secret, or updates the one read earlier in
// the reconcile (optimistic concurrency through its resourceVersion), and
// returns it as stored.
func (r *Reconciler) storeClientSecret(ctx context.Context, server *mcpv1.MCPServer, existing *corev1.Secret, data map[string][]byte) (*corev1.Secret, error) {
	secret := existing
	if secret == nil {
		secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: server.Namespace, Name: mcpv1.ClientSecretName(server.Name)}}
		if err := controllerutil.SetControllerReference(server, secret, r.Scheme()); err != nil {
			return nil, fmt.Errorf("owning OAuth client Secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
	}
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	// The finalizer keeps the Secret readable until the MCPServer's own
	// cleanup has used it, whatever deletes it first.
	controllerutil.AddFinalizer(secret, mcpv1.Finalizer)
	secret.Labels[mcpv1.LabelManagedBy] = mcpv1.ManagedByValue
	secret.Labels[mcpv1.LabelServer] = server.Name
	secret.Type = mcpv1.SecretTypeOAuth2Client
	secret.Data = data

	var err error
	if existing == nil {
		err = r.Create(ctx, secret)
	} else {
		err = r.Update(ctx, secret)
	}
	if err != nil {
		return nil, fmt.Errorf("writing OAuth client Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return secret, nil
}

// clearClientInvalid removes the client-invalid annotation once it has been
// acted upon (or names a client no longer in use). The JSON patch tests the
// value first, so a newer report made meanwhile is not lost. The patch goes
// to a copy: the server object in hand carries this reconcile's status.
func (r *Reconciler) clearClientInvalid(ctx context.Context, run *oauth2Run) error {
	reported, ok := run.server.Annotations[mcpv1.AnnotationClientInvalid]
	if !ok {
		return nil
	}
	patch := tokensecret.ClearClientInvalidPatch(reported)
	obj := run.server.DeepCopy()
	if err := r.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing annotation %s from MCPServer %s/%s: %w",
			mcpv1.AnnotationClientInvalid, run.server.Namespace, run.server.Name, err)
	}
	return nil
}
