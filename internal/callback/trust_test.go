package callback_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

var _ = Describe("An authorization server behind a private CA", func() {
	// browser trusts the private CA, as a corporate laptop does; it shows
	// each redirect instead of following it.
	browser := func(ca *fixture.CA) *http.Client {
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(ca.PEM())).To(BeTrue())
		return &http.Client{
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
			CheckRedirect: noFollow.CheckRedirect,
		}
	}
	// signIn approves the authorization request and returns the callback's answer.
	signIn := func(e *env, ca *fixture.CA) response {
		GinkgoHelper()
		authURL, cookie := e.startFlow(asUser("alice@example.com"), "")
		resp, err := browser(ca).Get(authURL.String())
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusFound))
		back, err := url.Parse(resp.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		return send(http.MethodGet, e.localURL(back), asUser("alice@example.com"), cookie)
	}

	It("redeems the code trusting the CA bundle the manager copied into the client Secret", func() {
		ca := fixture.NewCA()
		e := newEnv(setup{fake: fakeauth.Options{TLS: ca.ServerTLS()}, caBundle: ca.PEM()})
		r := signIn(e, ca)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		_, err := e.tokenSecret("alice@example.com")
		Expect(err).NotTo(HaveOccurred())
	})

	It("does not trust the private CA without the bundle", func() {
		ca := fixture.NewCA()
		e := newEnv(setup{fake: fakeauth.Options{TLS: ca.ServerTLS()}})
		r := signIn(e, ca)
		Expect(r.StatusCode).To(Equal(http.StatusBadGateway), r.body)
		_, err := e.tokenSecret("alice@example.com")
		Expect(err).To(HaveOccurred())
	})
})
