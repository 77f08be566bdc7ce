package callback_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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
})
