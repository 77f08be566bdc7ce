package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/internal/event"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// deleteRetryWindow bounds how long deletion waits for the authorization
// server to accept the RFC 7592 DELETE before it gives up and lets the
// MCPServer go: deletion never hangs forever on a remote outage.
const deleteRetryWindow = 2 * time.Minute

// reconcileOAuth2Removal makes sure nothing of an OAuth2 configuration stays
// in effect once spec.auth.type is no longer OAuth2: the registration is
// deleted, the client Secret and the users' token Secrets are removed, and
// status.oauth2 is cleared.
func (r *Reconciler) reconcileOAuth2Removal(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	if server.Spec.Auth.Type == mcpv1.AuthTypeOAuth2 {
		return ctrl.Result{}, nil
	}
	if server.Status.OAuth2 == nil && !r.clientSecretCached(ctx, server) {
		return ctrl.Result{}, nil // never OAuth2, or cleaned up: no live read
	}
	secret, err := r.getClientSecret(ctx, server)
	if err != nil {
		return ctrl.Result{}, err
	}
	if secret != nil && !ownClientSecret(secret, server) {
		secret = nil // not ours: leave it alone
	}
	if secret == nil && server.Status.OAuth2 == nil {
		return ctrl.Result{}, nil
	}
	hc, _, _ := r.httpClient(ctx, server) // best effort: without the bundle, the shared client
	var cl *oauth.Client
	if secret != nil {
		c := serverconfig.ClientFromSecret(secret)
		cl = &c
		r.deletePendingRegistration(ctx, hc, server, secret)
	}
	if err := r.retireClient(ctx, hc, server, cl, "", fmt.Sprintf("spec.auth.type changed to %s", server.Spec.Auth.Type)); err != nil {
		return ctrl.Result{}, err
	}
	if secret != nil {
		if err := r.deleteClientSecret(ctx, secret); err != nil {
			return ctrl.Result{}, err
		}
	}
	server.Status.OAuth2 = nil
	return ctrl.Result{}, nil
}

// retireReplaced retires a replaced client, now that its successor is
// registered and stored in the client Secret together with it, then drops
// it from the Secret. It runs twice per reconcile: first for a replacement
// an earlier reconcile stored but did not get to retire (the manager
// stopped), then for one made in this reconcile.
func (r *Reconciler) retireReplaced(ctx context.Context, run *oauth2Run) error {
	if run.retiring == nil {
		return nil
	}
	successor := run.current
	if run.client != nil {
		successor = run.client
	}
	if err := r.retireClient(ctx, run.http, run.server, run.retiring, successor.ClientID, run.replaced); err != nil {
		return err
	}
	run.retiring, run.replaced = nil, ""
	data := serverconfig.WithoutRetiring(run.secret.Data)
	stored, err := r.storeClientSecret(ctx, run.server, run.secret, data)
	if err != nil {
		return err
	}
	run.secret = stored
	return nil
}

// deletePendingRegistration deletes, best effort, the registration of a
// replaced client still recorded in the client Secret, when the whole
// OAuth2 configuration goes away (its users' Secrets go with the rest).
func (r *Reconciler) deletePendingRegistration(ctx context.Context, hc *http.Client, server *mcpv1.MCPServer, secret *corev1.Secret) {
	pending, _ := serverconfig.RetiringFromSecret(secret)
	if pending == nil {
		return
	}
	if err := oauth.DeleteRegistration(ctx, hc, pending); err != nil {
		r.event(server, corev1.EventTypeWarning, mcpv1.EventReasonRegistrationNotDeleted, mcpv1.EventReasonRegistrationNotDeleted, fmt.Sprintf(
			"Could not delete the registration of replaced client %s at %s: %s. Delete the client in the provider's console",
			pending.ClientID, redact.URL(pending.RegistrationClientURI), redact.Truncate(redact.Error(err), 600)))
	}
}

// retireClient ends an OAuth client's life for this server: the users'
// tokens are revoked and their Secrets removed, except those issued to the
// successor client (keepClientID; "" keeps none), then its registration is
// deleted (RFC 7592, when we hold its management credentials; a failure is
// reported but does not block). The client Secret is the caller's: it
// holds the successor, or is deleted after this. A Normal event says what
// happened.
func (r *Reconciler) retireClient(ctx context.Context, hc *http.Client, server *mcpv1.MCPServer, cl *oauth.Client, keepClientID, why string) error {
	// Users' tokens first: their revocation (RFC 7009) authenticates as cl,
	// which the authorization server refuses once cl is deleted.
	n, err := r.deleteTokenSecrets(ctx, hc, server, cl, keepClientID)
	if err != nil {
		return err
	}
	done := "removed"
	if cl != nil && cl.RegistrationClientURI != "" && cl.RegistrationAccessToken != "" {
		if err := oauth.DeleteRegistration(ctx, hc, cl); err != nil {
			r.event(server, corev1.EventTypeWarning, mcpv1.EventReasonRegistrationNotDeleted, mcpv1.EventReasonRegistrationNotDeleted, fmt.Sprintf(
				"Could not delete the registration of client %s at %s: %s. Delete the client in the provider's console",
				cl.ClientID, redact.URL(cl.RegistrationClientURI), redact.Truncate(redact.Error(err), 600)))
		} else {
			done = "deleted its registration and removed"
		}
	}
	what := "the previous OAuth configuration"
	if cl != nil {
		what = fmt.Sprintf("OAuth client %s of %s", cl.ClientID, redact.URL(cl.Issuer))
	}
	r.event(server, corev1.EventTypeNormal, mcpv1.EventReasonOAuth2ClientRemoved, mcpv1.EventReasonOAuth2ClientRemoved, fmt.Sprintf(
		"Retired %s because %s: %s %d user token Secret(s); users connect again",
		what, why, done, n))
	ctrl.LoggerFrom(ctx).Info("Retired OAuth client", "why", why, "tokenSecrets", n)
	return nil
}

// revokeBudget bounds the RFC 7009 revocations one retirement sends: past
// it, the remaining users' Secrets are deleted without revoking, so a slow
// revocation endpoint cannot hold the reconcile.
const revokeBudget = 30 * time.Second

// deleteTokenSecrets removes the server's users' token Secrets, except those
// issued to client keepClientID ("" keeps none), after revoking the tokens
// issued to cl (RFC 7009) where the authorization server advertises
// revocation. They are listed from the API server (the manager does not
// cache Secrets).
func (r *Reconciler) deleteTokenSecrets(ctx context.Context, hc *http.Client, server *mcpv1.MCPServer, cl *oauth.Client, keepClientID string) (int, error) {
	list := &corev1.SecretList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(server.Namespace),
		client.MatchingLabels{mcpv1.LabelServer: server.Name}); err != nil {
		return 0, fmt.Errorf("listing token Secrets of MCPServer %s/%s: %w", server.Namespace, server.Name, err)
	}
	revoke := revocationConfig(server, cl)
	revokeCtx, cancel := context.WithTimeout(ctx, revokeBudget)
	defer cancel()
	n := 0
	for i := range list.Items {
		secret := &list.Items[i]
		if secret.Type != mcpv1.SecretTypeUserToken {
			continue
		}
		rec := tokensecret.Read(secret)
		if keepClientID != "" && rec.ClientID == keepClientID {
			continue // connected through the successor already
		}
		if revoke != nil && revokeCtx.Err() == nil && (rec.ClientID == "" || rec.ClientID == cl.ClientID) {
			if err := oauth.RevokeGrant(revokeCtx, hc, *revoke, rec.RefreshToken, rec.AccessToken); err != nil {
				ctrl.LoggerFrom(ctx).Info("Revoking a user's tokens failed; deleting them anyway", "secret", secret.Name, "reason", redact.Error(err))
			}
		}
		if err := r.Delete(ctx, secret); err != nil && !apierrors.IsNotFound(err) {
			return n, fmt.Errorf("deleting token Secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
		n++
	}
	return n, nil
}

// revocationConfig is how tokens issued to cl are revoked: at the
// revocation endpoint in status, only when status is about cl's issuer (a
// token is never sent to another authorization server); nil when there is
// none.
func revocationConfig(server *mcpv1.MCPServer, cl *oauth.Client) *oauth.FlowConfig {
	st := server.Status.OAuth2
	if cl == nil || st == nil || st.RevocationEndpoint == "" || st.Issuer != cl.Issuer {
		return nil
	}
	return &oauth.FlowConfig{Client: *cl, Endpoint: oauth.Endpoint{Issuer: st.Issuer, RevocationEndpoint: st.RevocationEndpoint}}
}

// cleanUpOnDelete ends the server's OAuth life before its finalizer is
// released, in every deletion mode: users' tokens are revoked (RFC 7009)
// and their Secrets deleted, then the registration is deleted (RFC 7592),
// and the client Secret, which its own finalizer kept readable even when garbage
// collection (foreground, namespace deletion) or orphaning got to it
// first, is deleted last.
func (r *Reconciler) cleanUpOnDelete(ctx context.Context, server *mcpv1.MCPServer) error {
	secret, err := r.getClientSecret(ctx, server)
	if err != nil {
		return err
	}
	var cl *oauth.Client
	if secret != nil && ownClientSecret(secret, server) {
		c := serverconfig.ClientFromSecret(secret)
		cl = &c
	}
	hc, _, _ := r.httpClient(ctx, server) // best effort: without the bundle, the shared client
	// Users' tokens first: revoking them needs the client to still exist.
	if _, err := r.deleteTokenSecrets(ctx, hc, server, cl, ""); err != nil {
		return err
	}
	if cl == nil {
		return nil
	}
	if err := r.deleteRegistrationOnDelete(ctx, hc, server, cl); err != nil {
		return err
	}
	r.deletePendingRegistration(ctx, hc, server, secret)
	return r.deleteClientSecret(ctx, secret)
}

// deleteClientSecret releases the client Secret's finalizer and deletes it.
func (r *Reconciler) deleteClientSecret(ctx context.Context, secret *corev1.Secret) error {
	if controllerutil.ContainsFinalizer(secret, mcpv1.Finalizer) {
		patch := client.MergeFrom(secret.DeepCopy())
		controllerutil.RemoveFinalizer(secret, mcpv1.Finalizer)
		if err := r.Patch(ctx, secret, patch); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("releasing OAuth client Secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
	}
	if err := r.Delete(ctx, secret); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting OAuth client Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return nil
}

// deleteRegistrationOnDelete deletes cl's registration (RFC 7592) before
// the finalizer is released. Transient failures are retried with backoff
// for deleteRetryWindow after the deletion began; then, or at once for a
// permanent failure, a Warning event names the client to delete by hand
// and the MCPServer is let go.
func (r *Reconciler) deleteRegistrationOnDelete(ctx context.Context, hc *http.Client, server *mcpv1.MCPServer, cl *oauth.Client) error {
	if cl.RegistrationClientURI == "" || cl.RegistrationAccessToken == "" {
		return nil
	}
	err := oauth.DeleteRegistration(ctx, hc, cl)
	if err == nil {
		r.event(server, corev1.EventTypeNormal, mcpv1.EventReasonRegistrationDeleted, mcpv1.EventReasonRegistrationDeleted, fmt.Sprintf(
			"Deleted the registration of client %s at %s", cl.ClientID, redact.URL(cl.RegistrationClientURI)))
		return nil
	}
	since := r.now().Sub(server.DeletionTimestamp.Time)
	if oauth.IsTransient(err) && since < deleteRetryWindow {
		return fmt.Errorf("deleting the OAuth client registration of MCPServer %s/%s (retrying for %s): %w",
			server.Namespace, server.Name, (deleteRetryWindow - since).Round(time.Second), err)
	}
	r.event(server, corev1.EventTypeWarning, mcpv1.EventReasonRegistrationNotDeleted, mcpv1.EventReasonRegistrationNotDeleted, fmt.Sprintf(
		"Gave up deleting the registration of client %s at %s: %s. The MCPServer is deleted anyway; delete the client in the provider's console",
		cl.ClientID, redact.URL(cl.RegistrationClientURI), redact.Truncate(redact.Error(err), 600)))
	return nil
}

// event records an event when a recorder is configured. The note is
// truncated to what an event can hold.
func (r *Reconciler) event(server *mcpv1.MCPServer, eventType, reason, action, note string) {
	event.Record(r.Recorder, server, nil, eventType, reason, action, note)
}
