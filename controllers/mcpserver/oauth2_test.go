package mcpserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
)

const testRedirect = "https://chat.example.com/auth/callback/ns/s"

// settledRun is a run of a fully configured DCR server whose discovery is
// not due; tests change one thing each.
func settledRun() *oauth2Run {
	now := time.Now()
	server := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", Generation: 3, UID: "uid-1"},
		Spec:       mcpv1.MCPServerSpec{URL: "https://mcp.example.com/mcp", Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}},
	}
	server.Status.OAuth2 = &mcpv1.OAuth2Status{Issuer: "https://as.example.com", RedirectURI: testRedirect,
		LastDiscoveryTime: &metav1.Time{Time: now.Add(-time.Hour)}, Scopes: []string{"a"}}
	setCondition(server, mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonRegistered, "ok")
	return &oauth2Run{
		server: server, now: now, redirectURI: testRedirect, currentRedirect: testRedirect,
		secret:  &corev1.Secret{},
		current: &oauth.Client{ClientID: "c1", Method: oauth.MethodDCR, Issuer: "https://as.example.com"},
	}
}

// TestReplaceReasonFromRun covers the adapter to oauth.ReplaceReason (the
// decision itself is tested in internal/oauth): which run field feeds which
// requirement.
func TestReplaceReasonFromRun(t *testing.T) {
	cases := []struct {
		name   string
		change func(*oauth2Run)
		want   string // substring; "" = keep the client
	}{
		{"valid client is kept", func(*oauth2Run) {}, ""},
		{"no client yet", func(r *oauth2Run) { r.current = nil }, "no client"},
		{"issuer from a fresh discovery", func(r *oauth2Run) {
			r.discovery = &oauth.Discovery{AuthServer: oauth.AuthServerMetadata{Issuer: "https://other.example.com"}}
		}, "authorization server changed"},
		{"issuer from status without discovery", func(r *oauth2Run) { r.server.Status.OAuth2.Issuer = "https://other.example.com" }, "authorization server changed"},
		{"redirect URI changed", func(r *oauth2Run) { r.redirectURI = "https://new.example.com/callback/ns/s" }, "redirect URI changed"},
		{"invalid_client for this client", func(r *oauth2Run) { r.invalidClient = "c1" }, "invalid_client"},
		{"secret about to expire", func(r *oauth2Run) { r.current.ClientSecretExpiresAt = r.now.Add(30 * time.Minute) }, "expires"},
		{"CIMD kept without fresh metadata", func(r *oauth2Run) {
			r.current.Method, r.current.ClientID, r.cimdURL = oauth.MethodCIMD, "https://x/y.json", "https://x/y.json"
		}, ""},
		{"CIMD support from a fresh discovery", func(r *oauth2Run) {
			r.current.Method, r.current.ClientID, r.cimdURL = oauth.MethodCIMD, "https://x/y.json", "https://x/y.json"
			r.discovery = &oauth.Discovery{AuthServer: oauth.AuthServerMetadata{Issuer: "https://as.example.com"}}
		}, "Client ID Metadata Document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := settledRun()
			tc.change(run)
			got := replaceReason(run)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("replaceReason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiscoveryDue(t *testing.T) {
	r := &Reconciler{RediscoveryInterval: 24 * time.Hour}
	cases := []struct {
		name   string
		change func(*oauth2Run)
		want   bool
	}{
		{"settled and fresh", func(*oauth2Run) {}, false},
		{"old discovery", func(r *oauth2Run) { r.server.Status.OAuth2.LastDiscoveryTime.Time = r.now.Add(-27 * time.Hour) }, true},
		{"within jitter window is not yet due", func(r *oauth2Run) { r.server.Status.OAuth2.LastDiscoveryTime.Time = r.now.Add(-23 * time.Hour) }, false},
		{"spec changed", func(r *oauth2Run) { r.server.Generation = 4 }, true},
		{"condition false", func(r *oauth2Run) {
			setCondition(r.server, mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonDiscoveryFailed, "x")
		}, true},
		{"no client Secret", func(r *oauth2Run) { r.secret = nil }, true},
		{"invalid client reported", func(r *oauth2Run) { r.invalidClient = "c1" }, true},
		{"callback URL changed", func(r *oauth2Run) { r.redirectURI = "https://other/callback/ns/s" }, true},
		{"never discovered", func(r *oauth2Run) { r.server.Status.OAuth2 = nil }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := settledRun()
			tc.change(run)
			if got := r.discoveryDue(run); got != tc.want {
				t.Fatalf("discoveryDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRediscoveryIntervalJitter(t *testing.T) {
	r := &Reconciler{}
	seen := map[time.Duration]bool{}
	for _, uid := range []string{"a", "b", "c", "d"} {
		s := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{UID: k8stypes.UID("uid-" + uid)}}
		d := r.rediscoveryInterval(s)
		if d < DefaultRediscoveryInterval || d > DefaultRediscoveryInterval*11/10 {
			t.Fatalf("interval %v outside [24h, 26.4h]", d)
		}
		if d != r.rediscoveryInterval(s) {
			t.Fatal("jitter must be stable per server")
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Fatal("servers should not all share one interval")
	}
}

func TestDeriveCallbackURLs(t *testing.T) {
	server := &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "github"}}
	cases := []struct {
		base, wantRedirect, wantCIMD, wantReason string
	}{
		{"", "", "", mcpv1.ReasonCallbackURLMissing},
		{"http://chat.example.com", "", "", mcpv1.ReasonCallbackURLInvalid},
		{"http://127.0.0.1:8090", "http://127.0.0.1:8090/callback/team-a/github", "", ""},
		{"https://chat.example.com/mcp-auth/", "https://chat.example.com/mcp-auth/callback/team-a/github",
			"https://chat.example.com/mcp-auth/client-metadata/team-a/github.json", ""},
	}
	for _, tc := range cases {
		r := &Reconciler{CallbackURL: tc.base}
		run := &oauth2Run{server: server}
		err := r.deriveCallbackURLs(context.Background(), run)
		var ce *stalled.Error
		switch {
		case tc.wantReason != "":
			if !errors.As(err, &ce) || ce.Reason != tc.wantReason || !strings.Contains(ce.Message, "--callback-url") {
				t.Fatalf("%q: err = %v, want reason %s naming --callback-url", tc.base, err, tc.wantReason)
			}
		case err != nil || run.redirectURI != tc.wantRedirect || run.cimdURL != tc.wantCIMD:
			t.Fatalf("%q: got %q %q %v", tc.base, run.redirectURI, run.cimdURL, err)
		}
	}
}

func TestAuthFailedClassifies(t *testing.T) {
	r := &Reconciler{ResyncInterval: time.Hour}
	cases := []struct {
		name       string
		err        error
		wantReason string
		wantErr    bool
		wantRetry  bool // slow RequeueAfter instead of an error
	}{
		{"transient discovery failure backs off", &oauth.Error{Reason: oauth.ReasonDiscoveryFailed, Message: "x 503", Transient: true},
			mcpv1.ReasonDiscoveryFailed, true, false},
		{"user-fixable registration failure does not hot-loop", &oauth.Error{Reason: oauth.ReasonRegistrationUnsupported, Message: "set spec.auth.oauth2"},
			mcpv1.ReasonRegistrationUnsupported, false, true},
		{"blocked URL is not transient", &oauth.Error{Reason: oauth.ReasonURLBlocked, Message: "blocked", Transient: true},
			mcpv1.ReasonURLBlocked, false, true},
		{"credential problem", &stalled.Error{Reason: mcpv1.ReasonSecretNotFound, Message: "missing"}, mcpv1.ReasonSecretNotFound, false, true},
		{"API error is returned without touching the condition", errors.New("conflict"), "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := &mcpv1.MCPServer{}
			s := &serverScope{server: server}
			res, err := r.authFailed(s, tc.err)
			if (err != nil) != tc.wantErr || (res.RequeueAfter > 0) != tc.wantRetry {
				t.Fatalf("got %v, %v", res, err)
			}
			applyStatus(server, s.learned, err == nil)
			c := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionAuthConfigured)
			if tc.wantReason == "" {
				if c != nil {
					t.Fatalf("condition set: %+v", c)
				}
				return
			}
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != tc.wantReason {
				t.Fatalf("condition = %+v, want False/%s", c, tc.wantReason)
			}
		})
	}
}

func TestCheckStatusBounds(t *testing.T) {
	ok := &mcpv1.OAuth2Status{Issuer: "https://as", Scopes: []string{"a", "b"}}
	if err := checkStatusBounds(ok); err != nil {
		t.Fatal(err)
	}
	long := &mcpv1.OAuth2Status{TokenEndpoint: "https://as/" + strings.Repeat("x", mcpv1.MaxURLLength)}
	if err := checkStatusBounds(long); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
		t.Fatalf("long endpoint: %v", err)
	}
	many := &mcpv1.OAuth2Status{Scopes: make([]string, mcpv1.MaxScopes+1)}
	if err := checkStatusBounds(many); err == nil {
		t.Fatal("too many scopes accepted")
	}
}

func TestRequeueFloor(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: 0, time.Nanosecond: time.Minute, time.Hour: time.Hour} {
		if got := requeueFloor(in); got != want {
			t.Fatalf("requeueFloor(%v) = %v, want %v", in, got, want)
		}
	}
}
