package mcpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/mcptest"
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
		http:    r.HTTPClient,
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

// A server whose tools/list never ends is followed only to the status bound:
// by tool count when pages are large, by page count when they are small.
func TestProbeSessionStopsAtTheToolBounds(t *testing.T) {
	r := &Reconciler{HTTPClient: oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})}
	cases := []struct {
		name             string
		perPage, nameLen int
		wantPages        int32
		wantTools        int
	}{
		{"large pages stop at the tool cap", 500, 1024, 1, mcpv1.MaxTools},
		{"small pages stop at the page cap", 10, 32, maxToolPages, 10 * maxToolPages},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, pages := mcptest.NewEndlessToolList(tc.perPage, tc.nameLen)
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			server := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{URL: srv.URL}}
			f, _ := r.probeSession(ctx, &serverScope{server: server, headers: http.Header{}, http: r.HTTPClient})
			if f.status != metav1.ConditionTrue {
				t.Fatalf("finding = %+v", f)
			}
			if got := pages.Load(); got != tc.wantPages {
				t.Fatalf("followed %d pages, want %d", got, tc.wantPages)
			}
			if len(server.Status.Tools) != tc.wantTools {
				t.Fatalf("%d tools in status, want %d", len(server.Status.Tools), tc.wantTools)
			}
			for _, n := range server.Status.Tools {
				if utf8.RuneCountInString(n) > mcpv1.MaxToolNameLength {
					t.Fatalf("tool name of %d characters in status", utf8.RuneCountInString(n))
				}
			}
		})
	}
}

// An API key goes to spec.url's origin only, never along a redirect to
// another host.
func TestCredentialsDoNotFollowACrossHostRedirect(t *testing.T) {
	const key = "k3y-that-stays-home"
	var elsewhere, home atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") == key {
			elsewhere.Add(1)
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") == key {
			home.Add(1)
		}
		http.Redirect(w, r, other.URL+"/mcp", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()

	r := &Reconciler{HTTPClient: oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	headers := http.Header{}
	headers.Set("X-API-Key", key)
	server := &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{URL: origin.URL + "/mcp"}}
	_, _ = r.probeSession(ctx, &serverScope{server: server, headers: headers, http: r.HTTPClient})
	if home.Load() == 0 {
		t.Fatal("the key never reached spec.url's own host")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the key followed a redirect to another host %d time(s)", n)
	}
}

// A host that failed at the network level is not probed again until its
// backoff is over, by this server or any other on it.
func TestReachabilitySkipsAHostInBackoff(t *testing.T) {
	var requests atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer down.Close()
	r := &Reconciler{HTTPClient: oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})}
	scope := func(path string) *serverScope {
		return &serverScope{
			server:  &mcpv1.MCPServer{Spec: mcpv1.MCPServerSpec{URL: down.URL + path, Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2}}},
			learned: learned{auth: truef(mcpv1.ReasonRegistered, "ok")},
			http:    r.HTTPClient,
		}
	}
	if _, err := r.reconcileReachability(context.Background(), scope("/a")); err != nil {
		t.Fatal(err)
	}
	s := scope("/b")
	res, err := r.reconcileReachability(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("the failing host got %d requests, want 1", n)
	}
	if f := s.learned.reachable; f.status != metav1.ConditionFalse || !strings.Contains(f.message, "tries it again in") {
		t.Fatalf("finding = %+v", f)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > hostBackoffBase {
		t.Fatalf("RequeueAfter = %s, want the host's wait", res.RequeueAfter)
	}
}
