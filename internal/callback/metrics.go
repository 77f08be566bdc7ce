package callback

import "github.com/prometheus/client_golang/prometheus"

// Results used as metric label values. Only these constants are ever used:
// never a user ID, server name, URL or token.
const (
	resultRedirected     = "redirected"
	resultConnected      = "connected"
	resultUnauthorized   = "unauthorized"
	resultRejected       = "rejected"        // server missing, disabled, not OAuth2, not configured, bad input
	resultBadFlow        = "bad_flow"        // cookie missing, expired or tampered; state mismatch or replay
	resultIssuerMismatch = "issuer_mismatch" // RFC 9207
	resultDenied         = "denied"          // the authorization server returned an error
	resultExchangeFailed = "exchange_failed"
	resultInvalidClient  = "invalid_client"
	resultStoreFailed    = "store_failed"
	resultDisconnected   = "disconnected"
)

var (
	connectsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_callback_connects_total",
		Help: "Connect requests by result.",
	}, []string{"result"})
	callbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_callback_callbacks_total",
		Help: "OAuth callbacks by result.",
	}, []string{"result"})
	disconnectsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_callback_disconnects_total",
		Help: "Disconnect requests by result.",
	}, []string{"result"})
)

// Collectors are the callback server's metrics, to register next to
// oauth.Collectors().
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{connectsTotal, callbacksTotal, disconnectsTotal}
}
