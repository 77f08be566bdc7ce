package callback_test

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

var _ = Describe("Reconnecting", func() {
	It("keeps the refresh token when the provider issues one only at first consent, as Google does", func() {
		e := newEnv(setup{fake: fakeauth.Options{RefreshTokenAtFirstConsentOnly: true}})
		r := e.connect("alice@example.com", "")
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		first, err := e.tokenSecret("alice@example.com")
		Expect(err).NotTo(HaveOccurred())
		refresh := string(first.Data[tokensecret.KeyRefreshToken])
		Expect(refresh).NotTo(BeEmpty())

		r = e.connect("alice@example.com", "")
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		again, err := e.tokenSecret("alice@example.com")
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Data[tokensecret.KeyAccessToken]).NotTo(Equal(first.Data[tokensecret.KeyAccessToken]), "the new access token is stored")
		Expect(string(again.Data[tokensecret.KeyRefreshToken])).To(Equal(refresh), "the refresh token of the first consent is kept")
		Expect(again.Annotations).To(HaveKey(tokensecret.AnnotationRefreshTokenKept))
		Expect(e.fake.GrantAlive(refresh)).To(BeTrue(), "and it still works at the provider")
	})
})
