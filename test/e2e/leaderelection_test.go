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
	It("starts outside a cluster with the default flags, its Lease in the kubeconfig context's namespace, under its shipped Role", func() {
		probe, err := harness.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		m, err := harness.StartManager(ctx, harness.ManagerOptions{
			Bin: bins.Manager, LogDir: filepath.Join(workDir, "logs-leader-election"), Kubeconfig: kubeconfigs[managerIdentity],
			CallbackURL: callbackURL, ProbeAddr: probe, LeaderElect: true,
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = m.Stop(10 * time.Second) })

		// The ServiceAccount's kubeconfig names its namespace, the one where
		// config/rbac lets the manager hold Leases.
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: managerIdentity.namespace, Name: "mcp-operator.mcpoperator.io"}, &coordinationv1.Lease{})
		}).Should(Succeed())
		exited, err := m.Exited()
		Expect(exited).To(BeFalse(), "the manager exited: %v", err)
	})
})
