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
		Help: "Per-user token Secrets by state, as last seen by the refresher.",
	}, []string{"state"})
)

func init() {
	metrics.Registry.MustRegister(tokenRefreshTotal, tokenRefreshDuration, tokenRefreshLag, tokensByState)
}

// stateTracker keeps the tokens-by-state gauge exact: it remembers each
// Secret's last seen state and moves it between label values.
type stateTracker struct {
	mu     sync.Mutex
	states map[types.NamespacedName]mcpauth.State
}

func (t *stateTracker) set(key types.NamespacedName, state mcpauth.State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.states == nil {
		t.states = map[types.NamespacedName]mcpauth.State{}
	}
	old, had := t.states[key]
	if had && old == state {
		return
	}
	if had {
		tokensByState.WithLabelValues(string(old)).Dec()
	}
	t.states[key] = state
	tokensByState.WithLabelValues(string(state)).Inc()
}

func (t *stateTracker) forget(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, had := t.states[key]; had {
		tokensByState.WithLabelValues(string(old)).Dec()
		delete(t.states, key)
	}
}
