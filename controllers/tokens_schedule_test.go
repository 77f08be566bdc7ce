package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

func TestDueAt(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name          string
		lifetime      time.Duration
		earliest, due time.Duration // from t0: due lies in [earliest, due]
	}{
		{"1h token at 50 min", time.Hour, 49 * time.Minute, 50 * time.Minute},
		{"30s token at 24 s", 30 * time.Second, 23400 * time.Millisecond, 24 * time.Second},
		{"1s token never due at issue", time.Second, 780 * time.Millisecond, 800 * time.Millisecond},
		{"24h token 10 min ahead", 24 * time.Hour, 24*time.Hour - 11*time.Minute, 24*time.Hour - 10*time.Minute},
	}
	for _, tc := range cases {
		for i := range 200 {
			seed := fmt.Sprintf("uid-%d", i)
			got := dueAt(t0, t0.Add(tc.lifetime), seed).Sub(t0)
			if got < tc.earliest || got > tc.due {
				t.Fatalf("%s: due after %v, want within [%v, %v]", tc.name, got, tc.earliest, tc.due)
			}
			if again := dueAt(t0, t0.Add(tc.lifetime), seed).Sub(t0); again != got {
				t.Fatalf("%s: jitter is not stable across calls (%v, %v)", tc.name, got, again)
			}
		}
	}
	if got := dueAt(time.Time{}, t0.Add(time.Hour), "x"); got.After(t0.Add(50*time.Minute)) || got.Before(t0.Add(49*time.Minute)) {
		t.Errorf("without issue time: due %v, want 10-11 min before expiry", got)
	}
}

func TestBackoffIsExponentialAndCapped(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := backoffFor(i + 1); got != w {
			t.Errorf("backoffFor(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoffFor(1000); got != backoffCap {
		t.Errorf("backoffFor(1000) = %v", got)
	}
}

// TestConnectedUsersCountUsesTheCodecsUsableRule: status.connectedUsers
// counts with tokensecret's Record.Usable, the rule the callback server's
// /connections uses (see internal/callback's
// TestConnectionsUseTheCodecsUsableRule, same fixtures): an Active Secret
// whose access token expired and that has no refresh token is not counted,
// even before the refresher marks it Expired; and the count is redone when
// the live token without a refresh token expires.
func TestConnectedUsersCountUsesTheCodecsUsableRule(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	srv := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "chat", Name: "github", UID: "uid-1"},
		Spec:       mcpv1.MCPServerSpec{DisplayName: "GitHub", Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2}},
		Status:     mcpv1.MCPServerStatus{ConnectedUsers: 3},
	}
	token := func(user, refresh string, expiry time.Time) *corev1.Secret {
		sec := &corev1.Secret{}
		tokensecret.WriteGrant(sec, srv, tokensecret.Grant{User: user, IssuedAt: expiry.Add(-time.Hour),
			Tokens: tokensecret.Tokens{AccessToken: "at-" + user, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}})
		return sec
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(mcpv1.AddToScheme(scheme))
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&mcpv1.MCPServer{}).WithObjects(srv,
		token("expired-no-refresh", "", now.Add(-time.Second)),
		token("expired-with-refresh", "rt", now.Add(-time.Second)),
		token("live-no-refresh", "", now.Add(time.Minute)),
	).Build()
	r := &connectedUsersReconciler{client: c, tokens: c, clock: clocktesting.NewFakeClock(now)}
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(srv)})
	if err != nil {
		t.Fatal(err)
	}
	got := &mcpv1.MCPServer{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(srv), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ConnectedUsers != 2 {
		t.Errorf("connectedUsers = %d, want 2 (expired-with-refresh and live-no-refresh)", got.Status.ConnectedUsers)
	}
	if res.RequeueAfter != time.Minute {
		t.Errorf("RequeueAfter = %v, want 1m (when live-no-refresh stops being usable)", res.RequeueAfter)
	}
}
