package mcpserver

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// setCondition records a condition for the server's current generation.
func setCondition(server *mcpv1.MCPServer, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&server.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: server.Generation,
	})
}

// summarize computes Ready from the other conditions. It is the only place
// Ready is decided.
func summarize(server *mcpv1.MCPServer) {
	server.Status.ObservedGeneration = server.Generation
	status, reason, message := readiness(server)
	setCondition(server, mcpv1.ConditionReady, status, reason, message)
}

func readiness(server *mcpv1.MCPServer) (metav1.ConditionStatus, string, string) {
	if !server.IsEnabled() {
		return metav1.ConditionFalse, mcpv1.ReasonDisabled, "The server is disabled (spec.enabled is false): chat apps do not offer it"
	}
	for _, t := range []string{mcpv1.ConditionAuthConfigured, mcpv1.ConditionReachable} {
		c := meta.FindStatusCondition(server.Status.Conditions, t)
		switch {
		case c == nil || c.ObservedGeneration != server.Generation:
			return metav1.ConditionUnknown, mcpv1.ReasonReconcile, t + " has not been evaluated for this generation yet"
		case c.Status == metav1.ConditionUnknown:
			return metav1.ConditionUnknown, c.Reason, t + ": " + c.Message
		case c.Status == metav1.ConditionFalse:
			return metav1.ConditionFalse, c.Reason, t + ": " + c.Message
		}
	}
	return metav1.ConditionTrue, mcpv1.ReasonReady, "Credentials are configured and the server answered"
}
