package callback_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

var _ = Describe("The single-use memory", func() {
	// 50 users signing in at once each from its own replica claim 100 values
	// (a ticket and a state each). With every claim updating one
	// ConfigMap, conflicts outlasted the retries and about a third of
	// the sign-ins were refused with 503.
	It("accepts 100 simultaneous claims of distinct values each from its own replica, and refuses each a second time", func() {
		ns, err := envtestutil.NewNamespace(ctx, k8sClient, "usedonce")
		Expect(err).NotTo(HaveOccurred())
		expiry := time.Now().Add(5 * time.Minute)
		claimAll := func() (fresh, failed int32) {
			var wg sync.WaitGroup
			var nFresh, nFailed atomic.Int32
			for i := range 100 {
				wg.Go(func() {
					defer GinkgoRecover()
					ok, err := callback.ClaimTicketForTest(ctx, k8sClient, ns, "jti-"+strconv.Itoa(i), expiry)
					switch {
					case err != nil:
						GinkgoWriter.Printf("claim %d: %v\n", i, err)
						nFailed.Add(1)
					case ok:
						nFresh.Add(1)
					}
				})
			}
			wg.Wait()
			return nFresh.Load(), nFailed.Load()
		}
		fresh, failed := claimAll()
		Expect(failed).To(BeZero(), "claims refused for lack of a decision")
		Expect(fresh).To(BeEquivalentTo(100))

		fresh, failed = claimAll()
		Expect(failed).To(BeZero())
		Expect(fresh).To(BeZero(), "a value was accepted twice")
	})

	It("takes one replica's simultaneous claims in turns per ConfigMap, so they never conflict", func() {
		ns, err := envtestutil.NewNamespace(ctx, k8sClient, "usedonce")
		Expect(err).NotTo(HaveOccurred())
		counting := &conflictCounter{Client: k8sClient}
		claim := callback.NewReplicaClaimerForTest(counting, ns)
		expiry := time.Now().Add(5 * time.Minute)
		var wg sync.WaitGroup
		var fresh atomic.Int32
		for i := range 100 {
			wg.Go(func() {
				defer GinkgoRecover()
				ok, err := claim(ctx, "jti-"+strconv.Itoa(i), expiry)
				Expect(err).NotTo(HaveOccurred())
				if ok {
					fresh.Add(1)
				}
			})
		}
		wg.Wait()
		Expect(fresh.Load()).To(BeEquivalentTo(100))
		Expect(counting.conflicts.Load()).To(BeZero(), "claims of one replica raced each other")
	})
})

// conflictCounter counts the updates the API server refused with a conflict.
type conflictCounter struct {
	client.Client
	conflicts atomic.Int32
}

func (c *conflictCounter) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	err := c.Client.Update(ctx, obj, opts...)
	if apierrors.IsConflict(err) {
		c.conflicts.Add(1)
	}
	return err
}
