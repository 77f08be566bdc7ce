package tokenrefresh

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fixture"
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
	srv := fixture.MCPServer("chat", "github", "https://mcp.example.com/mcp", fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
	srv.UID = "uid-1"
	srv.Status.ConnectedUsers = 3
	token := func(user, refresh string, expiry time.Time) *corev1.Secret {
		g := fixture.Grant(user, expiry.Add(-time.Hour))
		g.Tokens.RefreshToken = refresh
		return fixture.TokenSecret(srv, g)
	}
	c := fake.NewClientBuilder().WithScheme(envtestutil.NewScheme()).WithStatusSubresource(&mcpv1.MCPServer{}).WithObjects(srv,
		token("expired-no-refresh", "", now.Add(-time.Second)),
		token("expired-with-refresh", "rt", now.Add(-time.Second)),
		token("live-no-refresh", "", now.Add(time.Minute)),
	).Build()
	r := &ConnectedUsers{Client: c, APIReader: c, tokens: c, Clock: clocktesting.NewFakeClock(now)}
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

// TestConnectedUsersCountsOnlySecretsTheServerControls: a Secret with the
// token Secret's labels, type and usable tokens is not a connected user
// unless the MCPServer controls it.
func TestConnectedUsersCountsOnlySecretsTheServerControls(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	srv := fixture.MCPServer("chat", "github", "https://mcp.example.com/mcp", fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
	srv.UID = "uid-1"
	token := func(user string, refs ...metav1.OwnerReference) *corev1.Secret {
		s := fixture.TokenSecret(srv, fixture.Grant(user, now))
		if refs != nil {
			s.OwnerReferences = refs
		}
		return s
	}
	c := fake.NewClientBuilder().WithScheme(envtestutil.NewScheme()).WithStatusSubresource(&mcpv1.MCPServer{}).WithObjects(srv,
		token("alice"),
		token("mallory", metav1.OwnerReference{}), // no controller
		token("eve", metav1.OwnerReference{APIVersion: mcpv1.GroupVersion.String(), Kind: "MCPServer", Name: "github",
			UID: "uid-0", Controller: ptr.To(true)}),
	).Build()
	r := &ConnectedUsers{Client: c, APIReader: c, tokens: c, Clock: clocktesting.NewFakeClock(now)}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(srv)}); err != nil {
		t.Fatal(err)
	}
	got := &mcpv1.MCPServer{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(srv), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ConnectedUsers != 1 {
		t.Errorf("connectedUsers = %d, want 1 (alice; mallory's and eve's Secrets are not the server's)", got.Status.ConnectedUsers)
	}
}
