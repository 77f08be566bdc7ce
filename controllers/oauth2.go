package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// reconcileOAuth2 will discover the authorization server and register a
// client. Until then it reports honestly that nothing is configured.
func (r *MCPServerReconciler) reconcileOAuth2(_ context.Context, s *serverScope) (ctrl.Result, error) {
	setCondition(s.server, mcpv1.ConditionAuthConfigured, metav1.ConditionUnknown, mcpv1.ReasonInProgress,
		"OAuth2 configuration is not handled by this version of the operator yet")
	return ctrl.Result{}, nil
}
