package e2e

import (
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// waitRefreshed waits (up to two token lifetimes) until the refresher has
// replaced before's access token, and checks the grant stayed the same.
func waitRefreshed(before *harness.TokenView) *harness.TokenView {
	after, err := harness.WaitTokenView(ctx, k8s, namespace, before.Labels[mcpv1.LabelServer], user, 2*tokenTTL,
		func(v *harness.TokenView) bool { return v.AccessTokenChanged(before) })
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, after.GrantID).To(Equal(before.GrantID), "a refresh keeps the grant")
	ExpectWithOffset(1, after.State).To(Equal(string(mcpauth.StateActive)))
	exp, err := time.Parse(time.RFC3339, after.Expiry)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, exp).To(BeTemporally(">", time.Now()))
	return after
}

func tokenSecret(server string) *corev1.Secret {
	sec := &corev1.Secret{}
	ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: mcpauth.TokenSecretName(server, user)}, sec)).To(Succeed())
	return sec
}

// accessTokenAlive asks the fake authorization server about the stored token.
func accessTokenAlive(server string) bool {
	return fake.GrantAlive(string(tokenSecret(server).Data[mcpauth.KeyAccessToken]))
}

// connected is the user's /connections entry for server. The callback
// server must answer with the documented shape and list server (it
// exists): a broken endpoint fails the spec instead of reading as "not
// connected".
func connected(b *harness.Browser, server string) bool {
	list, err := b.Connections(ctx)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	c, ok := list.Find(namespace, server)
	ExpectWithOffset(1, ok).To(BeTrue(), "/connections does not list %s/%s: %+v", namespace, server, list.Connections)
	return c.Connected
}

// ownedSecrets are the names of the Secrets s controls.
func ownedSecrets(s *mcpv1.MCPServer) []string {
	list := &corev1.SecretList{}
	ExpectWithOffset(1, k8s.List(ctx, list, client.InNamespace(namespace))).To(Succeed())
	var names []string
	for _, sec := range list.Items {
		if ref := metav1.GetControllerOf(&sec); ref != nil && ref.UID == s.UID {
			names = append(names, sec.Name)
		}
	}
	return names
}

// ownedSecretsByLabel are the Secrets labelled as belonging to server.
func ownedSecretsByLabel(server string) []corev1.Secret {
	list := &corev1.SecretList{}
	ExpectWithOffset(1, k8s.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{mcpv1.LabelServer: server})).To(Succeed())
	return list.Items
}
