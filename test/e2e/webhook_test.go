package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

// Every MCPServer of this suite passes through the webhooks of
// config/webhook, registered in BeforeSuite with failurePolicy Fail and
// served by the manager process over TLS. These specs prove the wiring: a
// response only the webhooks give.
var _ = Describe("The admission webhooks, served by the manager", func() {
	It("refuse what only the validating webhook checks", func() {
		// CEL accepts the URL (absolute, http, a host); the fragment is the
		// webhook's own rule.
		s := fixture.MCPServer(namespace, "fragment", "http://127.0.0.1:1/mcp#section")
		err := k8s.Create(ctx, s)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`admission webhook "vmcpserver.mcpoperator.io" denied the request`))
		Expect(err.Error()).To(ContainSubstring("fragment"))
	})

	It("default and trim through the mutating webhook", func() {
		s := fixture.MCPServer(namespace, "padded", "  http://127.0.0.1:1/mcp  ")
		s.Spec.DisplayName = "  Padded  "
		Expect(k8s.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { deleteServer(s) })
		got := &mcpv1.MCPServer{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
		Expect(got.Spec.DisplayName).To(Equal("Padded"))
		Expect(got.Spec.URL).To(Equal("http://127.0.0.1:1/mcp"))
	})
})
