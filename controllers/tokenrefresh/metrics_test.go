package tokenrefresh

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// TestTokensByStateLabelsUnknownStatesAsOneValue: the state annotation is
// free text anyone who can edit the Secret writes; a label value per text
// would let them grow the metric without bound.
func TestTokensByStateLabelsUnknownStatesAsOneValue(t *testing.T) {
	tokensByState.Reset()
	t.Cleanup(tokensByState.Reset)
	var st stateTracker
	for i, state := range []mcpauth.State{"Active; DROP TABLE", "a-state-nobody-writes", "", mcpauth.StateActive} {
		st.set(types.NamespacedName{Namespace: "chat", Name: string(rune('a' + i))}, state)
	}
	if got := testutil.ToFloat64(tokensByState.WithLabelValues(stateUnknown)); got != 3 {
		t.Errorf(`mcp_operator_tokens{state="unknown"} = %v, want 3`, got)
	}
	if got := testutil.ToFloat64(tokensByState.WithLabelValues(string(mcpauth.StateActive))); got != 1 {
		t.Errorf(`mcp_operator_tokens{state="Active"} = %v, want 1`, got)
	}
	if n := testutil.CollectAndCount(tokensByState); n != 2 {
		t.Errorf("mcp_operator_tokens has %d series, want 2 (unknown and Active)", n)
	}
	// A Secret moving from an unknown state to a known one moves its count.
	st.set(types.NamespacedName{Namespace: "chat", Name: "a"}, mcpauth.StateExpired)
	if got := testutil.ToFloat64(tokensByState.WithLabelValues(stateUnknown)); got != 2 {
		t.Errorf(`mcp_operator_tokens{state="unknown"} = %v after a move, want 2`, got)
	}
}
