package e2e

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/test/harness"
)

var _ = Describe("The manager with leader election", func() {
	It("starts outside a cluster with the default flags, its Lease in the kubeconfig context's namespace", func() {
		probe, err := harness.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		m, err := harness.StartManager(ctx, harness.ManagerOptions{
			Bin: bins.Manager, LogDir: filepath.Join(workDir, "logs-leader-election"), Kubeconfig: kubeconfig,
			CallbackURL: callbackURL, ProbeAddr: probe, LeaderElect: true,
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = m.Stop(10 * time.Second) })

		// The admin kubeconfig's context names no namespace: "default".
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: "mcp-operator.mcpoperator.io"}, &coordinationv1.Lease{})
		}).Should(Succeed())
		exited, err := m.Exited()
		Expect(exited).To(BeFalse(), "the manager exited: %v", err)
	})
})
