package mcpserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// serverReady has one series per enabled MCPServer: what alerts and
// dashboards need ("not Ready for 15 minutes") without kube-state-metrics
// custom-resource configuration. Only the leader, which reconciles,
// exports it.
var serverReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "mcp_operator_mcpserver_ready",
	Help: "1 when the MCPServer's Ready condition is True, else 0; one series per enabled MCPServer (disabled and deleted ones have none).",
}, []string{"namespace", "name"})

func init() {
	metrics.Registry.MustRegister(serverReady)
}

// recordReadiness exports server's Ready condition as computed by
// applyStatus.
func recordReadiness(server *mcpv1.MCPServer) {
	if !server.IsEnabled() {
		forgetReadiness(types.NamespacedName{Namespace: server.Namespace, Name: server.Name})
		return
	}
	v := 0.0
	if meta.IsStatusConditionPresentAndEqual(server.Status.Conditions, mcpv1.ConditionReady, metav1.ConditionTrue) {
		v = 1
	}
	serverReady.WithLabelValues(server.Namespace, server.Name).Set(v)
}

// forgetReadiness removes a server's series: it was deleted or disabled.
func forgetReadiness(key types.NamespacedName) {
	serverReady.DeleteLabelValues(key.Namespace, key.Name)
}
