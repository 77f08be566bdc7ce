package webhooks

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// reRegistrationWarnings warns when an update changes spec.url or
// spec.auth.type of a server that already has an OAuth client: that is
// allowed, but the operator then registers anew and every connected user
// loses their tokens.
func (v *MCPServerValidator) reRegistrationWarnings(ctx context.Context, old, s *mcpv1.MCPServer) admission.Warnings {
	var changed []string
	if old.Spec.URL != s.Spec.URL {
		changed = append(changed, "spec.url")
	}
	if old.Spec.Auth.Type != s.Spec.Auth.Type {
		changed = append(changed, "spec.auth.type")
	}
	if len(changed) == 0 {
		return nil
	}
	registered, err := v.hasRegistration(ctx, old)
	if err != nil {
		// An update must not fail on a flaky read: admit, and say so.
		ctrl.LoggerFrom(ctx).Info("Could not check for an OAuth client registration", "error", err.Error())
		return admission.Warnings{fmt.Sprintf("could not check whether MCPServer %q has a registered OAuth client; if it has, changing %s re-registers it and disconnects its users",
			s.Name, strings.Join(changed, " or "))}
	}
	if !registered {
		return nil
	}
	var warnings admission.Warnings
	for _, f := range changed {
		warnings = append(warnings, fmt.Sprintf(
			"%s changed on MCPServer %q, which has a registered OAuth client: the operator will re-register it and every connected user is disconnected and must connect again",
			f, s.Name))
	}
	return warnings
}

// hasRegistration: the status names a client, or the client Secret exists.
func (v *MCPServerValidator) hasRegistration(ctx context.Context, s *mcpv1.MCPServer) (bool, error) {
	if s.Status.OAuth2 != nil && s.Status.OAuth2.ClientID != "" {
		return true, nil
	}
	key := types.NamespacedName{Namespace: s.Namespace, Name: mcpv1.ClientSecretName(s.Name)}
	err := v.Reader.Get(ctx, key, &corev1.Secret{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("reading OAuth client Secret %s of MCPServer %s: %w", key, s.Name, err)
}
