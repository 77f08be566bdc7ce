package mcpserver

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
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
			got := filterTools(names, tc.filter)
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

func TestRedactURL(t *testing.T) {
	got := redactURL("https://user:pw@example.com/mcp?token=abc#frag")
	if got != "https://example.com/mcp" {
		t.Fatalf("redactURL = %q", got)
	}
}

// A reconcile that failed leaves observedGeneration where it was, so a
// reader does not take a half-done reconcile of a new generation for done.
func TestApplyStatusMovesObservedGenerationOnlyOnSuccess(t *testing.T) {
	s := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	s.Status.ObservedGeneration = 2
	applyStatus(s, learned{auth: falsef(mcpv1.ReasonDiscoveryFailed, "503")}, false)
	if s.Status.ObservedGeneration != 2 {
		t.Fatalf("observedGeneration = %d after a failed reconcile, want 2", s.Status.ObservedGeneration)
	}
	if c := meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionAuthConfigured); c == nil || c.Reason != mcpv1.ReasonDiscoveryFailed || c.ObservedGeneration != 3 {
		t.Fatalf("AuthConfigured = %+v, want the failure recorded for generation 3", c)
	}
	applyStatus(s, learned{}, true)
	if s.Status.ObservedGeneration != 3 {
		t.Fatalf("observedGeneration = %d after success, want 3", s.Status.ObservedGeneration)
	}
}

// A step that did not run leaves its condition as it was.
func TestApplyStatusKeepsConditionsNotLearned(t *testing.T) {
	s := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	applyStatus(s, learned{reachable: truef(mcpv1.ReasonConnected, "ok")}, true)
	applyStatus(s, learned{auth: truef(mcpv1.ReasonNotRequired, "none")}, true)
	if c := meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionReachable); c == nil || c.Reason != mcpv1.ReasonConnected {
		t.Fatalf("Reachable = %+v, want it kept", c)
	}
}

func TestChallengeFinding(t *testing.T) {
	const url = "https://mcp.example.com/mcp?key=sekrit"
	cases := []struct {
		name       string
		answer     oauth.ProbeResult
		err        error
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"bearer challenge is healthy", oauth.ProbeResult{StatusCode: 401, Bearer: true}, nil, metav1.ConditionTrue, mcpv1.ReasonAuthorizationRequired},
		{"open server", oauth.ProbeResult{StatusCode: 200}, nil, metav1.ConditionTrue, mcpv1.ReasonConnected},
		{"401 without a bearer challenge", oauth.ProbeResult{StatusCode: 401}, nil, metav1.ConditionFalse, mcpv1.ReasonUnreachable},
		{"server error", oauth.ProbeResult{StatusCode: 502}, nil, metav1.ConditionFalse, mcpv1.ReasonUnreachable},
		{"network error", oauth.ProbeResult{}, errors.New("connection refused"), metav1.ConditionFalse, mcpv1.ReasonUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := challengeFinding(url, tc.answer, tc.err)
			if f.status != tc.wantStatus || f.reason != tc.wantReason {
				t.Fatalf("finding = %+v, want %s/%s", f, tc.wantStatus, tc.wantReason)
			}
			if strings.Contains(f.message, "sekrit") {
				t.Fatalf("message quotes the URL's query: %q", f.message)
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	before := &mcpv1.MCPServer{}
	setCondition(before, mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonRegistered, "ok")
	setCondition(before, mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonConnected, "ok")
	after := before.DeepCopy()
	setCondition(after, mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonRegistered, "new message, same reason")
	setCondition(after, mcpv1.ConditionReachable, metav1.ConditionFalse, mcpv1.ReasonUnreachable, "down")
	got := transitions(before, after)
	if len(got) != 1 || got[0].eventType != corev1.EventTypeWarning || got[0].reason != mcpv1.ReasonUnreachable || got[0].action != mcpv1.ConditionReachable {
		t.Fatalf("transitions = %+v, want one Warning Unreachable for Reachable", got)
	}
}
