package webhooks_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/webhooks"
)

var _ = Describe("The defaulting webhook", func() {
	It("returns valid objects trimmed, cleaned and defaulted", func() {
		s := validServer(newNamespace(nil))
		s.Spec.DisplayName = "  Docs  "
		s.Spec.URL = " https://mcp.example.com/mcp\n"
		s.Spec.Tools = &mcpv1.ToolFilter{Allow: []string{" search", "", "fetch", "search ", "fetch"}, Deny: []string{" delete "}}
		Expect(k8sClient.Create(ctx, s)).To(Succeed())

		got := &mcpv1.MCPServer{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
		for _, sp := range []mcpv1.MCPServerSpec{s.Spec, got.Spec} { // the create response and a fresh read
			Expect(sp.DisplayName).To(Equal("Docs"))
			Expect(sp.URL).To(Equal("https://mcp.example.com/mcp"))
			Expect(sp.Tools.Allow).To(Equal([]string{"search", "fetch"}))
			Expect(sp.Tools.Deny).To(Equal([]string{"delete"}))
			Expect(sp.Transport).To(Equal(mcpv1.DefaultTransport))
			Expect(sp.Availability).To(Equal(mcpv1.DefaultAvailability))
			Expect(sp.Enabled).To(Equal(ptr.To(mcpv1.DefaultEnabled)))
			Expect(sp.Auth.Type).To(Equal(mcpv1.DefaultAuthType))
		}
	})

	It("is idempotent: applying the defaulted object again changes nothing", func() {
		s := validServer(newNamespace(nil))
		s.Spec.Description = " trailing\n"
		s.Spec.Tools = &mcpv1.ToolFilter{Allow: []string{"a", " a", ""}}
		s.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{Scopes: []string{" openid "}}}
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		stored := s.DeepCopy()

		again := stored.DeepCopy()
		webhooks.Default(again)
		Expect(equality.Semantic.DeepEqual(again.Spec, stored.Spec)).To(BeTrue(), "defaulting the stored object changed it")

		Expect(k8sClient.Update(ctx, again)).To(Succeed())
		Expect(again.ResourceVersion).To(Equal(stored.ResourceVersion), "the update was not a no-op")
		Expect(again.Generation).To(Equal(stored.Generation))
	})

	Describe("agrees with the CRD's own defaults", Ordered, func() {
		var crdOnly string // a namespace the mutating webhook skips

		BeforeAll(func() {
			crdOnly = newNamespace(map[string]string{noDefaultingLabel: "true"})
			// The namespaceSelector reaches the API server's webhook cache
			// asynchronously: wait until whitespace survives in crdOnly.
			n := 0
			Eventually(func(g Gomega) {
				n++
				s := validServer(crdOnly)
				s.Name = fmt.Sprintf("probe-%d", n)
				s.Spec.DisplayName = " untouched "
				g.Expect(k8sClient.Create(ctx, s)).To(Succeed())
				g.Expect(s.Spec.DisplayName).To(Equal(" untouched "))
			}).Should(Succeed())
		})

		DescribeTable("the CRD alone and webhooks.Default give the same spec",
			func(spec mcpv1.MCPServerSpec) {
				s := validServer(crdOnly)
				s.GenerateName, s.Name = "agree-", ""
				s.Spec = spec
				want := s.DeepCopy()
				webhooks.Default(want)

				Expect(k8sClient.Create(ctx, s)).To(Succeed())
				Expect(s.Spec).To(Equal(want.Spec), "CRD defaults differ from the webhook's")

				viaWebhook := validServer(newNamespace(nil))
				viaWebhook.Spec = spec
				Expect(k8sClient.Create(ctx, viaWebhook)).To(Succeed())
				Expect(viaWebhook.Spec).To(Equal(want.Spec), "the webhook path gave a different spec")
			},
			Entry("nothing optional set", mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp"}),
			Entry("tools but no auth", mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp",
				Tools: &mcpv1.ToolFilter{Allow: []string{"search"}}}),
			Entry("OAuth2 with an empty block", mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp",
				Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}}),
			Entry("explicit values kept", mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp",
				Transport: mcpv1.TransportSSE, Availability: mcpv1.AvailabilityForceOn, Enabled: ptr.To(false)}),
			Entry("disabled with no transport", mcpv1.MCPServerSpec{DisplayName: "X", URL: "https://mcp.example.com/mcp",
				Enabled: ptr.To(false)}),
		)
	})
})
