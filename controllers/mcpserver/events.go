package mcpserver

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// recordTransitions emits one event per condition that changed status or
// reason: Warning for False, Normal otherwise. The reason is the condition's.
func (r *Reconciler) recordTransitions(original, server *mcpv1.MCPServer) {
	if r.Recorder == nil {
		return
	}
	for _, t := range []string{mcpv1.ConditionAuthConfigured, mcpv1.ConditionReachable} {
		now := meta.FindStatusCondition(server.Status.Conditions, t)
		if now == nil || now.Status == metav1.ConditionUnknown {
			continue
		}
		before := meta.FindStatusCondition(original.Status.Conditions, t)
		if before != nil && before.Status == now.Status && before.Reason == now.Reason {
			continue
		}
		eventType := corev1.EventTypeNormal
		if now.Status == metav1.ConditionFalse {
			eventType = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(server, nil, eventType, now.Reason, t, "%s", now.Message)
	}
}
