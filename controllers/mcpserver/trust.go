package mcpserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get

// httpClient returns the client for every outbound call about server and
// the PEM bundle it trusts besides the shared roots: the shared client and
// no bundle, or, when spec.caBundleRef is set, a client that also trusts the
// CA certificates it names. When the bundle cannot be used it returns the
// shared client with the error, so best-effort cleanup can still go ahead.
func (r *Reconciler) httpClient(ctx context.Context, server *mcpv1.MCPServer) (*http.Client, []byte, error) {
	ref := server.Spec.CABundleRef
	if ref == nil {
		return r.HTTPClient, nil, nil
	}
	bundle, field, err := r.caBundle(ctx, server.Namespace, ref)
	if err != nil {
		return r.HTTPClient, nil, err
	}
	c, err := r.trusted.For(r.HTTPClient, bundle)
	if err != nil {
		return r.HTTPClient, nil, stalled.Errorf(mcpv1.ReasonCABundleInvalid,
			"The key %s names %s: put the PEM CA certificates (-----BEGIN CERTIFICATE-----) that sign the server's or the authorization server's certificate there",
			field, err)
	}
	return c, bundle, nil
}

// caBundle reads the PEM bundle spec.caBundleRef names, and says which
// field named it. A Secret is held to the rules of every referenced Secret
// (opted in with the credential label); a ConfigMap is read as it is.
func (r *Reconciler) caBundle(ctx context.Context, namespace string, ref *mcpv1.CABundleSource) ([]byte, string, error) {
	if s := ref.SecretKeyRef; s != nil {
		const field = "spec.caBundleRef.secretKeyRef"
		v, err := r.secretValue(ctx, namespace, *s, field)
		return []byte(v), fmt.Sprintf("%s (Secret %s/%s key %q)", field, namespace, s.Name, s.Key), err
	}
	s := ref.ConfigMapKeyRef
	const field = "spec.caBundleRef.configMapKeyRef"
	named := fmt.Sprintf("%s (ConfigMap %s/%s key %q)", field, namespace, s.Name, s.Key)
	cm := &corev1.ConfigMap{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: s.Name}, cm)
	switch {
	case apierrors.IsNotFound(err):
		return nil, named, stalled.Errorf(mcpv1.ReasonCABundleNotFound,
			"ConfigMap %s/%s referenced by %s does not exist: create it, or fix the reference", namespace, s.Name, field)
	case err != nil:
		return nil, named, fmt.Errorf("reading ConfigMap %s/%s referenced by %s: %w", namespace, s.Name, field, err)
	}
	if v, ok := cm.Data[s.Key]; ok && v != "" {
		return []byte(v), named, nil
	}
	if v, ok := cm.BinaryData[s.Key]; ok && len(v) > 0 {
		return v, named, nil
	}
	return nil, named, stalled.Errorf(mcpv1.ReasonCABundleNotFound,
		"ConfigMap %s/%s referenced by %s has no non-empty key %q: add the key, or fix %s.key",
		namespace, s.Name, field, s.Key, field)
}
