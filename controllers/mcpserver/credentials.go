package mcpserver

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/credentialsecret"
	"github.com/mcp-operator/mcp-operator/internal/httpheader"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
)

// reconcileCredentials owns AuthConfigured for every auth type but OAuth2,
// whose auto-configuration is a step of its own.
func (r *Reconciler) reconcileCredentials(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	auth := server.Spec.Auth
	hc, bundle, err := r.httpClient(ctx, server)
	if err != nil {
		return r.authFailed(s, err)
	}
	s.http, s.caBundle = hc, bundle
	switch auth.Type {
	case mcpv1.AuthTypeNone, "":
		s.learned.auth = truef(mcpv1.ReasonNotRequired, "The server needs no credentials")
	case mcpv1.AuthTypeUserOIDC:
		s.learned.auth = truef(mcpv1.ReasonUserIdentityForwarded,
			"Chat apps forward each signed-in user's OIDC token; the operator holds no credentials for this server")
	case mcpv1.AuthTypeAPIKey:
		ref := auth.APIKey.SecretKeyRef
		value, err := r.secretValue(ctx, server.Namespace, ref, "spec.auth.apiKey.secretKeyRef")
		if err != nil {
			return r.authFailed(s, err)
		}
		s.headers.Set(auth.APIKey.Header, value)
		s.learned.auth = truef(mcpv1.ReasonSecretsResolved, "API key read from Secret %s key %s", ref.Name, ref.Key)
	case mcpv1.AuthTypeHeaders:
		name := auth.Headers.SecretRef.Name
		data, err := r.secretData(ctx, server.Namespace, name, "referenced by spec.auth.headers.secretRef")
		if err == nil && len(data) == 0 {
			err = stalled.Errorf(mcpv1.ReasonSecretKeyNotFound,
				"Secret %s/%s referenced by spec.auth.headers.secretRef has no keys: add one key per header (key = header name, value = header value)",
				server.Namespace, name)
		}
		if err == nil {
			err = checkHeaderKeys(server.Namespace, name, data)
		}
		if err != nil {
			return r.authFailed(s, err)
		}
		for k, v := range data {
			s.headers.Set(k, string(v))
		}
		s.learned.auth = truef(mcpv1.ReasonSecretsResolved, "%d header(s) read from Secret %s", len(data), name)
	case mcpv1.AuthTypeOAuth2:
		return r.reconcileOAuth2(ctx, s)
	}
	return ctrl.Result{}, nil
}

// authFailed records a failed credentials step as AuthConfigured's finding
// and says what the reconcile does next: a stalled failure waits for a
// change (the Secret watch) or the slow resync, with no hot retry; a
// transient or unexpected one is returned for a rate-limited retry.
func (r *Reconciler) authFailed(s *serverScope, err error) (ctrl.Result, error) {
	f, verdict := failed(err, mcpv1.ReasonDiscoveryFailed)
	if f != nil {
		s.learned.auth = f
	}
	if verdict.Kind == stalled.Stalled {
		s.learned.stalled = f
		return ctrl.Result{RequeueAfter: jitter(r.resyncInterval())}, nil
	}
	return ctrl.Result{}, fmt.Errorf("resolving the credentials of MCPServer %s/%s: %w", s.server.Namespace, s.server.Name, err)
}

// secretData reads a referenced Secret straight from the API server and
// hands out its data only when the Secret may be sent (credentialsecret: it
// is opted in and not of a forbidden type). usage says where it is
// referenced from, e.g. `(key "token") referenced by spec.auth.apiKey.secretKeyRef`.
func (r *Reconciler) secretData(ctx context.Context, namespace, name, usage string) (map[string][]byte, error) {
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, stalled.Errorf(mcpv1.ReasonSecretNotFound,
			"Secret %s/%s %s does not exist: create it, or fix the reference", namespace, name, usage)
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s %s: %w", namespace, name, usage, err)
	}
	if reason, problem := credentialsecret.Refusal(secret); reason != "" {
		return nil, stalled.Errorf(reason, "Secret %s/%s %s %s", namespace, name, usage, problem)
	}
	return secret.Data, nil
}

// checkHeaderKeys holds a headers Secret to the webhook's header-name rule:
// the Secret may be created or changed after the MCPServer was admitted.
func checkHeaderKeys(namespace, name string, data map[string][]byte) error {
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if problem := httpheader.Problem(k, mcpv1.AuthTypeHeaders); problem != "" {
			return stalled.Errorf(mcpv1.ReasonInvalidHeader,
				"Secret %s/%s referenced by spec.auth.headers.secretRef has key %q, which cannot be sent as a header: it %s",
				namespace, name, k, problem)
		}
	}
	return nil
}

// secretValue reads one non-empty key of a referenced Secret.
func (r *Reconciler) secretValue(ctx context.Context, namespace string, ref mcpv1.SecretKeySelector, field string) (string, error) {
	data, err := r.secretData(ctx, namespace, ref.Name, fmt.Sprintf("(key %q) referenced by %s", ref.Key, field))
	if err != nil {
		return "", err
	}
	value, ok := data[ref.Key]
	if !ok || len(value) == 0 {
		return "", stalled.Errorf(mcpv1.ReasonSecretKeyNotFound,
			"Secret %s/%s referenced by %s has no non-empty key %q: add the key, or fix %s.key",
			namespace, ref.Name, field, ref.Key, field)
	}
	return string(value), nil
}
