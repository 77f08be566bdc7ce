package mcpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// A server that answers the probe with an event stream it never closes must
// not hold a worker for the probe timeout: the probe never reads the body.
func TestReachabilityDoesNotWaitOnAnOpenEventStream(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(": keep-alive\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	r := &Reconciler{HTTPClient: oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})}
	s := &serverScope{
		server:  &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{URL: srv.URL + "/mcp", Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2}}},
		learned: learned{auth: truef(mcpv1.ReasonRegistered, "ok")},
	}
	start := time.Now()
	if _, err := r.reconcileReachability(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the probe took %s: it waited on the event stream", took)
	}
	if f := s.learned.reachable; f == nil || f.status != metav1.ConditionTrue || f.reason != mcpv1.ReasonConnected {
		t.Fatalf("Reachable finding = %+v, want True/Connected", f)
	}
}
