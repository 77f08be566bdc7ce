package mcpserver

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func TestSummarize(t *testing.T) {
	type cond struct {
		status metav1.ConditionStatus
		reason string
		gen    int64
	}
	cases := []struct {
		name       string
		disabled   bool
		auth       *cond
		reachable  *cond
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"all true", false, &cond{"True", mcpv1.ReasonNotRequired, 2}, &cond{"True", mcpv1.ReasonConnected, 2},
			metav1.ConditionTrue, mcpv1.ReasonReady},
		{"OAuth2 needing user login is ready", false, &cond{"True", mcpv1.ReasonRegistered, 2},
			&cond{"True", mcpv1.ReasonAuthorizationRequired, 2}, metav1.ConditionTrue, mcpv1.ReasonReady},
		{"disabled wins", true, &cond{"True", mcpv1.ReasonNotRequired, 2}, &cond{"True", mcpv1.ReasonConnected, 2},
			metav1.ConditionFalse, mcpv1.ReasonDisabled},
		{"auth false carries its reason", false, &cond{"False", mcpv1.ReasonSecretNotFound, 2},
			&cond{"Unknown", mcpv1.ReasonProbeSkipped, 2}, metav1.ConditionFalse, mcpv1.ReasonSecretNotFound},
		{"unreachable", false, &cond{"True", mcpv1.ReasonNotRequired, 2}, &cond{"False", mcpv1.ReasonUnreachable, 2},
			metav1.ConditionFalse, mcpv1.ReasonUnreachable},
		{"auth unknown", false, &cond{"Unknown", mcpv1.ReasonProbeSkipped, 2}, nil,
			metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped},
		{"missing condition", false, &cond{"True", mcpv1.ReasonNotRequired, 2}, nil,
			metav1.ConditionUnknown, mcpv1.ReasonReconcile},
		{"stale generation", false, &cond{"True", mcpv1.ReasonNotRequired, 1}, &cond{"True", mcpv1.ReasonConnected, 2},
			metav1.ConditionUnknown, mcpv1.ReasonReconcile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			if tc.disabled {
				s.Spec.Enabled = ptr.To(false)
			}
			for typ, c := range map[string]*cond{mcpv1.ConditionAuthConfigured: tc.auth, mcpv1.ConditionReachable: tc.reachable} {
				if c != nil {
					meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
						Type: typ, Status: c.status, Reason: c.reason, Message: "m", ObservedGeneration: c.gen})
				}
			}
			applyStatus(s, learned{}, true)
			ready := meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionReady)
			if ready == nil || ready.Status != tc.wantStatus || ready.Reason != tc.wantReason {
				t.Fatalf("Ready = %+v, want %s/%s", ready, tc.wantStatus, tc.wantReason)
			}
			if ready.ObservedGeneration != 2 || s.Status.ObservedGeneration != 2 {
				t.Fatalf("observedGeneration not set: %+v", s.Status)
			}
		})
	}
}

func TestFilterTools(t *testing.T) {
	names := []string{"a", "b", "c"}
	cases := []struct {
		name   string
		filter *mcpv1.ToolFilter
		want   []string
	}{
		{"no filter", nil, []string{"a", "b", "c"}},
		{"allow", &mcpv1.ToolFilter{Allow: []string{"a", "c"}}, []string{"a", "c"}},
		{"deny", &mcpv1.ToolFilter{Deny: []string{"b"}}, []string{"a", "c"}},
		{"deny wins over allow", &mcpv1.ToolFilter{Allow: []string{"a", "b"}, Deny: []string{"b"}}, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := toolCollector{filter: tc.filter}
			for _, n := range names {
				c.add(n)
			}
			got := c.names
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// Reconciling and Stalled follow Ready, abnormal-true, so kstatus readers
// (Flux, Argo CD, kubectl wait) agree with Ready.
func TestApplyStatusSetsTheKstatusConditions(t *testing.T) {
	ready := &finding{status: metav1.ConditionTrue, reason: mcpv1.ReasonConnected, message: "ok"}
	cases := []struct {
		name            string
		disabled        bool
		l               learned
		wantReconciling bool
		wantStalled     string // reason; "" = absent
	}{
		{"ready: neither", false, learned{auth: truef(mcpv1.ReasonNotRequired, "none"), reachable: ready}, false, ""},
		{"disabled is the desired state: neither", true, learned{auth: truef(mcpv1.ReasonNotRequired, "none"), reachable: ready}, false, ""},
		{"unreachable, retried: Reconciling", false,
			learned{auth: truef(mcpv1.ReasonNotRequired, "none"), reachable: falsef(mcpv1.ReasonUnreachable, "down")}, true, ""},
		{"needs a person: Stalled", false,
			learned{auth: falsef(mcpv1.ReasonSecretNotFound, "create it"), stalled: falsef(mcpv1.ReasonSecretNotFound, "create it")}, false, mcpv1.ReasonSecretNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
			if tc.disabled {
				server.Spec.Enabled = ptr.To(false)
			}
			// What an earlier reconcile left must not linger.
			setCondition(server, mcpv1.ConditionStalled, metav1.ConditionTrue, "Old", "old")
			setCondition(server, mcpv1.ConditionReconciling, metav1.ConditionTrue, "Old", "old")
			applyStatus(server, tc.l, true)
			rec := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionReconciling)
			if (rec != nil) != tc.wantReconciling || (rec != nil && rec.Status != metav1.ConditionTrue) {
				t.Errorf("Reconciling = %+v, want present: %v", rec, tc.wantReconciling)
			}
			st := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionStalled)
			switch {
			case tc.wantStalled == "" && st != nil:
				t.Errorf("Stalled = %+v, want absent", st)
			case tc.wantStalled != "" && (st == nil || st.Status != metav1.ConditionTrue || st.Reason != tc.wantStalled):
				t.Errorf("Stalled = %+v, want True/%s", st, tc.wantStalled)
			}
		})
	}
}

func TestApplyStatusRecordsTheHandledReconcileRequest(t *testing.T) {
	server := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Generation: 1,
		Annotations: map[string]string{mcpv1.AnnotationReconcileRequestedAt: "2026-12-03T21:00:00Z"}}}
	if !reconcileRequested(server) {
		t.Fatal("a new request is not seen")
	}
	applyStatus(server, learned{}, false)
	if !reconcileRequested(server) {
		t.Fatal("a failed reconcile handled the request")
	}
	applyStatus(server, learned{}, true)
	if reconcileRequested(server) || server.Status.LastHandledReconcileAt != "2026-12-03T21:00:00Z" {
		t.Fatalf("after a reconcile: lastHandledReconcileAt = %q", server.Status.LastHandledReconcileAt)
	}
}
