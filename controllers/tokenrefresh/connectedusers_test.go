package tokenrefresh

import (
	"context"
	"testing"
	"time"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

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
	r := &ConnectedUsers{Client: c, tokens: c, Clock: clocktesting.NewFakeClock(now)}
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
