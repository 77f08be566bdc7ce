package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// The garbage collector and the namespace controller of
// kube-controller-manager, next to the operator's finalizer: whatever the
// deletion, nothing an MCPServer owns outlives it. Each server also owns a
// Secret the operator knows nothing of (an ownerReference, none of its
// labels): only the garbage collector can delete that one, so these specs
// cannot pass on the finalizer's cleanup alone.
var _ = Describe("Deleting an MCPServer with kube-controller-manager running", func() {
	DescribeTable("deletes every Secret it owns, through its finalizer and the garbage collector",
		func(name string, policy metav1.DeletionPropagation) {
			t := newTenant(name, fakeauth.Options{}, "alice")
			s := &mcpv1.MCPServer{}
			Expect(k8s.Get(ctx, t.key, s)).To(Succeed())
			extra := createForeignDependent(s)
			Expect(dependents(s.Namespace, s.UID)).To(ConsistOf(
				mcpv1.ClientSecretName(name), mcpauth.TokenSecretName(name, "alice"), extra.Name))

			Expect(k8s.Delete(ctx, s, client.PropagationPolicy(policy))).To(Succeed())
			Eventually(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, t.key, &mcpv1.MCPServer{})) }, time.Minute).
				Should(BeTrue(), "the MCPServer is gone")
			if policy == metav1.DeletePropagationForeground {
				// Foreground: the owner goes only after its blocking
				// dependents.
				Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(extra), &corev1.Secret{}))).
					To(BeTrue(), "the garbage collector deleted %s before its owner", extra.Name)
			}
			Eventually(func() []string { return dependents(s.Namespace, s.UID) }, time.Minute).Should(BeEmpty())
			_, registered := t.fake.Client(t.clientID)
			Expect(registered).To(BeFalse(), "the finalizer deleted the registration")
		},
		Entry("in the foreground", "gc-foreground", metav1.DeletePropagationForeground),
		Entry("in the background", "gc-background", metav1.DeletePropagationBackground),
	)

	It("with its namespace: the namespace controller deletes it, its finalizer runs, and the namespace goes", func() {
		const ns = "gc-namespace"
		Expect(harness.EnsureNamespace(ctx, k8s, ns)).To(Succeed())
		f, err := fakeauth.Start(fakeauth.Options{SeparateOrigins: true}, "127.0.0.1:0", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Close)
		s := fixture.MCPServer(ns, "doomed", f.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		s, err = harness.WaitMCPServer(ctx, k8s, client.ObjectKeyFromObject(s), 30*time.Second, harness.IsReady, nil)
		Expect(err).NotTo(HaveOccurred())
		clientID := s.Status.OAuth2.ClientID
		extra := createForeignDependent(s)
		Expect(dependents(ns, s.UID)).To(ConsistOf(mcpv1.ClientSecretName(s.Name), extra.Name))

		Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}))
		}, 2*time.Minute).
			Should(BeTrue(), "the namespace controller deleted everything in %s and then the namespace", ns)
		Expect(dependents(ns, s.UID)).To(BeEmpty())
		_, registered := f.Client(clientID)
		Expect(registered).To(BeFalse(), "the finalizer deleted the registration while the namespace was terminating")
	})
})

// createForeignDependent creates a Secret owned by s (blocking its
// foreground deletion) that carries none of the operator's labels: the
// operator neither reads nor deletes it.
func createForeignDependent(s *mcpv1.MCPServer) *corev1.Secret {
	GinkgoHelper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Namespace: s.Namespace, Name: s.Name + "-notes",
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: mcpv1.GroupVersion.String(), Kind: "MCPServer", Name: s.Name, UID: s.UID,
			BlockOwnerDeletion: ptr.To(true),
		}},
	}, StringData: map[string]string{"notes": "owned by " + s.Name + ", unknown to the operator"}}
	Expect(k8s.Create(ctx, sec)).To(Succeed())
	return sec
}

// dependents are the names of the Secrets in ns that name uid as an owner.
func dependents(ns string, uid types.UID) []string {
	GinkgoHelper()
	list := &corev1.SecretList{}
	Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var names []string
	for _, sec := range list.Items {
		for _, ref := range sec.OwnerReferences {
			if ref.UID == uid {
				names = append(names, sec.Name)
				break
			}
		}
	}
	return names
}
