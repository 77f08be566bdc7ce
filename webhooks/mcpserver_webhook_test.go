package webhooks

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// invalidStored is an object stored before the webhook existed; it breaks a
// rule, and the validator must not read anything for it (Reader is nil).
func invalidStored() *mcpv1.MCPServer {
	return &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "ns"},
		Spec:       mcpv1.MCPServerSpec{DisplayName: "Old", URL: "http://mcp.example.com/mcp"},
	}
}

func TestUpdateLeavingTheSpecAloneIsNotJudgedAgain(t *testing.T) {
	v := &MCPServerValidator{}
	old := invalidStored()
	withFinalizer := old.DeepCopy()
	withFinalizer.Finalizers = []string{mcpv1.Finalizer}
	if _, err := v.ValidateUpdate(context.Background(), old, withFinalizer); err != nil {
		t.Fatalf("adding a finalizer to a stored object was refused: %v", err)
	}
	deleting := withFinalizer.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{}
	deleting.Finalizers = nil
	deleting.Spec.DisplayName = "changed while deleting"
	if _, err := v.ValidateUpdate(context.Background(), withFinalizer, deleting); err != nil {
		t.Fatalf("removing the finalizer of a deleted object was refused: %v", err)
	}
}

func TestUpdateChangingTheSpecIsJudged(t *testing.T) {
	v := &MCPServerValidator{}
	old := invalidStored()
	changed := old.DeepCopy()
	changed.Spec.URL = "http://other.example.com/mcp"
	_, err := v.ValidateUpdate(context.Background(), old, changed)
	if err == nil || !strings.Contains(err.Error(), "spec.url") {
		t.Fatalf("got %v, want a spec.url error", err)
	}
}
