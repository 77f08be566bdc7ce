package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// tokenAddr is the callback process's token listener (--token-listen),
// picked once for the suite.
var tokenAddr = func() string {
	addr, err := harness.FreeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}()

// ticketKeyFile is the callback process's --ticket-key-file: the key a
// chat backend mints tickets with.
func ticketKeyFile() string { return filepath.Join(workDir, "ticket.key") }

// A chat pod as config/callback/chat_deployment.yaml runs it: no
// Kubernetes credentials, only the ticket key and the sidecar's token
// listener on loopback.
var _ = Describe("A chat pod without Kubernetes credentials", Ordered, func() {
	const (
		name    = "tokenep"
		tokUser = "e2e-token-user"
	)
	var ep mcpauth.TokenEndpoint

	BeforeAll(func() {
		key, err := os.ReadFile(ticketKeyFile())
		Expect(err).NotTo(HaveOccurred())
		ep = mcpauth.TokenEndpoint{URL: "http://" + tokenAddr, TicketKey: key}
		srv := fixture.MCPServer(namespace, name, fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		Expect(k8s.Create(ctx, srv)).To(Succeed())
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, srv))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(srv), &mcpv1.MCPServer{}))
			}).Should(BeTrue())
		})
		_, err = harness.WaitMCPServer(ctx, k8s, client.ObjectKeyFromObject(srv), 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
	})

	It("is told the user is not connected before they connect", func() {
		_, err := harness.ChatPodCallThroughEndpoint(ctx, ep, namespace, name, tokUser, "echo", map[string]any{"message": "x"})
		Expect(err).To(MatchError(mcpauth.ErrNotConnected))
	})

	It("calls a tool with the token the sidecar's token endpoint answers", func() {
		_, err := harness.NewBrowser(callbackURL, userHeader, tokUser).Connect(ctx, namespace, name)
		Expect(err).NotTo(HaveOccurred())
		res, err := harness.ChatPodCallThroughEndpoint(ctx, ep, namespace, name, tokUser, "echo", map[string]any{"message": "through the token endpoint"})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Text).To(Equal("through the token endpoint"))
	})

	It("answers only the ticket's user's token, never the refresh token", func() {
		sec := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: mcpauth.TokenSecretName(name, tokUser)}, sec)).To(Succeed())
		refresh := string(sec.Data[tokensecret.KeyRefreshToken])
		Expect(refresh).NotTo(BeEmpty())

		ticket, err := mcpauth.MintTicket(ep.TicketKey, mcpauth.Ticket{User: tokUser, Server: namespace + "/" + name})
		Expect(err).NotTo(HaveOccurred())
		status, body := get("http://"+tokenAddr+mcpauth.RoutePath(mcpauth.TokenPattern, namespace, name), ticket)
		Expect(status).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(string(sec.Data[mcpauth.KeyAccessToken])))
		Expect(body).NotTo(ContainSubstring(refresh))

		_, err = ep.Token(ctx, namespace, name, "someone-else")
		Expect(err).To(MatchError(mcpauth.ErrNotConnected))
	})

	It("is not reachable through the callback server's public listener", func() {
		ticket, err := mcpauth.MintTicket(ep.TicketKey, mcpauth.Ticket{User: tokUser, Server: namespace + "/" + name})
		Expect(err).NotTo(HaveOccurred())
		status, body := get(callbackURL+mcpauth.RoutePath(mcpauth.TokenPattern, namespace, name), ticket)
		Expect(status).To(Equal(http.StatusNotFound), body)
	})
})

// get sends GET url with a bearer ticket and returns the status and body.
func get(url, ticket string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+ticket)
	resp, err := http.DefaultClient.Do(req)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return resp.StatusCode, string(b)
}
