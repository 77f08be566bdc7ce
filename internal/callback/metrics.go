package callback

import "github.com/prometheus/client_golang/prometheus"

// Results used as metric label values. Only these constants are ever used:
// never a user ID, server name, URL or token.
const (
	resultConfirmationShown = "confirmation_shown" // GET connect: the page asking the user to confirm
	resultRedirected        = "redirected"
	resultConnected         = "connected"
	resultUnauthorized      = "unauthorized"
	resultRejected          = "rejected"        // server missing, disabled, not OAuth2, not configured, bad input
	resultBadFlow           = "bad_flow"        // cookie missing, expired or tampered; state mismatch or replay
	resultIssuerMismatch    = "issuer_mismatch" // RFC 9207
	resultDenied            = "denied"          // the authorization server returned an error
	resultExchangeFailed    = "exchange_failed"
	resultInvalidClient     = "invalid_client"
	resultStoreFailed       = "store_failed"
	resultDisconnected      = "disconnected"
	resultServed            = "served" // the token endpoint answered an access token
	// The token endpoint's refusals count under their mcpauth.Code* values.
)

var (
	connectsTotal      = newCounter("mcp_operator_callback_connects_total", "Connect requests by result.")
	callbacksTotal     = newCounter("mcp_operator_callback_callbacks_total", "OAuth callbacks by result.")
	disconnectsTotal   = newCounter("mcp_operator_callback_disconnects_total", "Disconnect requests by result.")
	tokenRequestsTotal = newCounter("mcp_operator_callback_token_requests_total",
		"Token endpoint requests by result: served, unauthorized, or the refusal's code (not_connected, refresh_pending, ...).")
)

func newCounter(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"result"})
}

// Collectors are the callback server's metrics, to register next to
// oauth.Collectors().
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{connectsTotal, callbacksTotal, disconnectsTotal, tokenRequestsTotal}
}
