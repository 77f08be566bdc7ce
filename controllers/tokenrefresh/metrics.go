package tokenrefresh

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// Results of a refresh, the values of the result label.
const (
	refreshResultSuccess        = "success"
	refreshResultInvalidGrant   = "invalid_grant"
	refreshResultInvalidClient  = "invalid_client"
	refreshResultInvalidScope   = "invalid_scope"
	refreshResultUnbound        = "token_endpoint_changed" // not sent: see unbound
	refreshResultTransient      = "transient_error"
	refreshResultError          = "error"
	refreshResultDiscarded      = "discarded" // the user reconnected meanwhile
	refreshResultPersistPending = "persist_failed"
)

var (
	tokenRefreshTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_token_refresh_total",
		Help: "Token refreshes by result.",
	}, []string{"result"})
	tokenRefreshDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mcp_operator_token_refresh_duration_seconds",
		Help:    "Time to redeem a refresh token and persist the result.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	})
	tokenRefreshLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mcp_operator_token_refresh_lag_seconds",
		Help:    "Delay between a token's scheduled refresh time and its actual refresh.",
		Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
	})
	tokensByState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mcp_operator_tokens",
		Help: "Per-user token Secrets by state, as last seen by the refresher; a state the operator does not write counts as \"unknown\".",
	}, []string{"state"})
	untrustedTokenSecrets = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mcp_operator_untrusted_token_secrets",
		Help: "Secrets with the token Secret's labels and type that the MCPServer named in their label does not control; the refresher neither refreshes nor counts them.",
	})
)

func init() {
	metrics.Registry.MustRegister(tokenRefreshTotal, tokenRefreshDuration, tokenRefreshLag, tokensByState, untrustedTokenSecrets)
}

// stateUnknown is the state label of every state the operator does not
// write: the annotation is free text on an object others can edit, and a
// label value per distinct text would let anyone grow the metric at will.
const stateUnknown = "unknown"

// stateLabel is the state label value of state.
func stateLabel(state mcpauth.State) string {
	switch state {
	case mcpauth.StateActive, mcpauth.StateReauthorizationRequired, mcpauth.StateExpired, mcpauth.StateClientInvalid:
		return string(state)
	}
	return stateUnknown
}

// stateTracker keeps the tokens-by-state gauge exact: it remembers each
// Secret's last seen state label and moves it between label values.
type stateTracker struct {
	mu     sync.Mutex
	states map[types.NamespacedName]string
}

func (t *stateTracker) set(key types.NamespacedName, state mcpauth.State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.states == nil {
		t.states = map[types.NamespacedName]string{}
	}
	label := stateLabel(state)
	old, had := t.states[key]
	if had && old == label {
		return
	}
	if had {
		tokensByState.WithLabelValues(old).Dec()
	}
	t.states[key] = label
	tokensByState.WithLabelValues(label).Inc()
}

func (t *stateTracker) forget(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, had := t.states[key]; had {
		tokensByState.WithLabelValues(old).Dec()
		delete(t.states, key)
	}
}

// untrustedTracker keeps the untrusted-Secrets gauge exact.
type untrustedTracker struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]bool
}

// add records key as untrusted; it reports whether it was not already.
func (t *untrustedTracker) add(key types.NamespacedName) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys[key] {
		return false
	}
	if t.keys == nil {
		t.keys = map[types.NamespacedName]bool{}
	}
	t.keys[key] = true
	untrustedTokenSecrets.Inc()
	return true
}

func (t *untrustedTracker) forget(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys[key] {
		delete(t.keys, key)
		untrustedTokenSecrets.Dec()
	}
}
