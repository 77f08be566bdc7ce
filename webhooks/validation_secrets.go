package webhooks

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/credentialsecret"
	"github.com/mcp-operator/mcp-operator/internal/httpheader"
)

// validateSecretName: a Secret name is a DNS subdomain.
func validateSecretName(name string, path *field.Path) field.ErrorList {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(path, name, "must be the name of a Secret in the MCPServer's namespace ("+
			strings.Join(msgs, "; ")+"), e.g. my-api-key")}
	}
	return nil
}

// validateSecretKeySelector: a valid Secret name and a valid data key.
func validateSecretKeySelector(s mcpv1.SecretKeySelector, path *field.Path) field.ErrorList {
	errs := validateSecretName(s.Name, path.Child("name"))
	if msgs := validation.IsConfigMapKey(s.Key); len(msgs) > 0 {
		errs = append(errs, field.Invalid(path.Child("key"), s.Key, "must be a key of the Secret ("+
			strings.Join(msgs, "; ")+"), e.g. api-key"))
	}
	return errs
}

// secretRef is one Secret an MCPServer reads, where it is referenced, and
// the key it needs ("" for every key).
type secretRef struct {
	path *field.Path
	name string
	key  string
}

func secretRefs(s *mcpv1.MCPServer) []secretRef {
	auth := field.NewPath("spec", "auth")
	var refs []secretRef
	if o := s.Spec.Auth.OAuth2; o != nil && o.ClientSecretRef != nil {
		refs = append(refs, secretRef{auth.Child("oauth2", "clientSecretRef"), o.ClientSecretRef.Name, o.ClientSecretRef.Key})
	}
	if k := s.Spec.Auth.APIKey; k != nil {
		refs = append(refs, secretRef{auth.Child("apiKey", "secretKeyRef"), k.SecretKeyRef.Name, k.SecretKeyRef.Key})
	}
	if h := s.Spec.Auth.Headers; h != nil {
		refs = append(refs, secretRef{auth.Child("headers", "secretRef"), h.SecretRef.Name, ""})
	}
	if ref := s.Spec.CABundleRef; ref != nil && ref.SecretKeyRef != nil {
		refs = append(refs, secretRef{field.NewPath("spec", "caBundleRef", "secretKeyRef"), ref.SecretKeyRef.Name, ref.SecretKeyRef.Key})
	}
	return refs
}

// checkSecrets reads the referenced Secrets. A Secret that does not exist
// yet, or is not yet labelled as meant for MCPServers
// (credentialsecret), is only a warning: GitOps tools apply objects in any
// order, and the reconciler holds the Secret to the same rule. A Secret of a
// type no MCPServer may reference is refused: its type cannot change. Where
// the headers Secret can be read, its keys must be usable header names.
func (v *MCPServerValidator) checkSecrets(ctx context.Context, s *mcpv1.MCPServer) (admission.Warnings, field.ErrorList) {
	var warnings admission.Warnings
	var errs field.ErrorList
	for _, ref := range secretRefs(s) {
		if len(validation.IsDNS1123Subdomain(ref.name)) > 0 {
			continue // already reported by ValidateSpec
		}
		secret := &corev1.Secret{}
		err := v.Reader.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: ref.name}, secret)
		switch {
		case apierrors.IsNotFound(err):
			warnings = append(warnings, fmt.Sprintf("%s: Secret %q does not exist in namespace %q yet; the server stays not ready until it is created",
				ref.path, ref.name, s.Namespace))
			continue
		case err != nil:
			// The answer must not depend on a flaky read: admit, and say so.
			ctrl.LoggerFrom(ctx).Info("Could not read a referenced Secret", "secret", ref.name, "error", err.Error())
			warnings = append(warnings, fmt.Sprintf("%s: Secret %q could not be read, so its contents were not checked", ref.path, ref.name))
			continue
		}
		// A Secret that may not be sent is not looked into either: its
		// keys are none of the author's business.
		switch reason, problem := credentialsecret.Refusal(secret); reason {
		case mcpv1.ReasonSecretTypeNotAllowed:
			errs = append(errs, field.Forbidden(ref.path.Child("name"), fmt.Sprintf("Secret %q %s", ref.name, problem)))
			continue
		case mcpv1.ReasonSecretNotOptedIn:
			warnings = append(warnings, fmt.Sprintf("%s: Secret %q %s; the server stays not ready until it is", ref.path, ref.name, problem))
			continue
		}
		if ref.key != "" {
			if _, ok := secret.Data[ref.key]; !ok {
				warnings = append(warnings, fmt.Sprintf("%s: Secret %q has no key %q yet; the server stays not ready until it does",
					ref.path, ref.name, ref.key))
			}
			continue
		}
		errs = append(errs, headersSecretKeyErrors(secret, s.Spec.Auth.Type, ref.path.Child("name"))...)
		if len(secret.Data) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: Secret %q has no keys, so no headers would be sent", ref.path, ref.name))
		}
	}
	return warnings, errs
}

// headersSecretKeyErrors checks each key of the headers Secret, in a stable
// order, as a header name. Only key names are echoed, never values.
func headersSecretKeyErrors(secret *corev1.Secret, authType mcpv1.AuthType, path *field.Path) field.ErrorList {
	keys := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs field.ErrorList
	for _, k := range keys {
		if problem := httpheader.Problem(k, authType); problem != "" {
			errs = append(errs, field.Invalid(path, secret.Name, fmt.Sprintf(
				"key %q of Secret %q is not a usable header name: %s; rename or remove that key in the Secret", k, secret.Name, problem)))
		}
	}
	return errs
}
