package callback_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// browser is a user's browser: it keeps cookies and follows redirects.
// With a user, it stands behind the authenticating proxy, which adds the
// trusted header to every request for the callback server.
type browser struct {
	client *http.Client
	user   string
}

func newBrowser(user string) *browser {
	jar, err := cookiejar.New(nil)
	Expect(err).NotTo(HaveOccurred())
	return &browser{client: &http.Client{Jar: jar}, user: user}
}

func (b *browser) do(method, u, form string) response {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(form))
	Expect(err).NotTo(HaveOccurred())
	if b.user != "" {
		req.Header.Set(userHeader, b.user)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp, string(body)}
}

// press presses the button of the confirmation page.
func (b *browser) press(page response) response {
	GinkgoHelper()
	action, fields, ok := harness.ConfirmForm(page.body)
	Expect(ok).To(BeTrue(), "not a confirmation page: %s", page.body)
	return b.do(http.MethodPost, action, fields.Encode())
}

// mint returns a connect-link ticket for user, bound to e's server.
func (e *env) mint(user string) string {
	GinkgoHelper()
	t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: user, Server: e.ns + "/" + e.name})
	Expect(err).NotTo(HaveOccurred())
	return "ticket=" + url.QueryEscape(t)
}

// Issue 14: Mallory mints a ticket for herself and sends Alice the connect
// link. Alice approved this client before, so the authorization server
// (the fake auto-approves) redirects straight back. Whatever happens, no
// token Secret may be written for Mallory.
var _ = Describe("Mallory's connect link, opened by Alice", func() {
	It("is refused behind the proxy: the header wins and names someone else (header mode)", func() {
		e := newEnv(setup{})
		alice := newBrowser("alice")
		r := alice.do(http.MethodGet, e.connectURL(e.mint("mallory")), "")
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), r.body)
		Expect(r.json()["error"]).To(ContainSubstring("another chat account"))
		Expect(r.Cookies()).To(BeEmpty())
		Expect(e.fake.Counters().Authorize).To(BeZero())
		e.expectNoSecret("mallory")
		e.expectNoSecret("alice")
	})

	It("connects only Alice's own account when the server cannot check tickets (header only)", func() {
		e := newEnv(setup{modes: headerOnly})
		alice := newBrowser("alice")
		page := alice.do(http.MethodGet, e.connectURL(e.mint("mallory")), "")
		Expect(page.StatusCode).To(Equal(http.StatusOK), page.body)
		Expect(page.body).To(ContainSubstring("<strong>alice</strong>"))
		Expect(page.body).NotTo(ContainSubstring("mallory"))
		Expect(alice.press(page).StatusCode).To(Equal(http.StatusOK))
		_, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		e.expectNoSecret("mallory")
	})

	It("stops at a page naming Mallory's account, and the link is then spent (ticket mode)", func() {
		e := newEnv(setup{modes: ticketsOnly})
		link := e.connectURL(e.mint("mallory"))
		alice := newBrowser("")
		page := alice.do(http.MethodGet, link, "")
		Expect(page.StatusCode).To(Equal(http.StatusOK), page.body)
		Expect(page.body).To(ContainSubstring("to the chat account <strong>mallory</strong>"))
		Expect(page.body).To(ContainSubstring("If that is not your chat account, close this window."))
		Expect(e.fake.Counters().Authorize).To(BeZero(), "nothing may reach the authorization server before the user confirms")
		e.expectNoSecret("mallory")

		r := newBrowser("").do(http.MethodGet, link, "")
		Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), "a connect link is single use")
		Expect(r.json()["error"]).To(ContainSubstring("already used"))
	})

	It("cannot be finished with Mallory's own sign-in planted in Alice's browser (header mode)", func() {
		e := newEnv(setup{})
		// Mallory starts and confirms her own sign-in, then gets its
		// authorization URL and cookie into Alice's browser.
		authURL, mallorysCookie := e.startFlow(asUser("mallory"), "")
		cb := authorize(authURL) // Alice's approval comes straight back

		r := send(http.MethodGet, cb.String(), asUser("alice"), mallorysCookie)
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), r.body)
		Expect(r.body).To(ContainSubstring("started by another chat account"))
		Expect(e.fake.Counters().TokenCode).To(BeZero())
		e.expectNoSecret("mallory")
		e.expectNoSecret("alice")

		By("nor with her confirmation page's form")
		page, unconfirmed := e.confirmationPage(asUser("mallory"), "")
		r = e.confirmRequest(page, asUser("alice"), unconfirmed)
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), r.body)
		Expect(r.Header.Get("Location")).To(BeEmpty())
		Expect(e.fake.Counters().Authorize).To(Equal(1), "only the authorization above")
	})
})

var _ = Describe("A ticket in a connect link", func() {
	It("is accepted once, across replicas sharing the API server", func() {
		e := newEnv(setup{modes: ticketsOnly})
		other := e.replica()
		link := e.mint("bob")

		page, _ := e.confirmationPage(nil, link)
		Expect(page.body).To(ContainSubstring("<strong>bob</strong>"))
		for _, base := range []string{e.local, other} {
			r := send(http.MethodGet, mcpauth.ConnectURL(base, e.ns, e.name)+"?"+link, nil)
			Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), "reused at %s", base)
			Expect(r.json()["error"]).To(ContainSubstring("already used"))
			Expect(r.Cookies()).To(BeEmpty())
		}

		By("the other replica takes a fresh link")
		r := send(http.MethodGet, mcpauth.ConnectURL(other, e.ns, e.name)+"?"+e.mint("bob"), nil)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
	})

	It("needs an ID and a server binding", func() {
		e := newEnv(setup{})
		now := time.Now().Unix()
		for _, t := range []string{
			ticket(map[string]any{"sub": "bob", "aud": mcpauth.TicketAudience, "iat": now, "exp": now + 60, "srv": e.ns + "/" + e.name}),
			ticket(map[string]any{"sub": "bob", "aud": mcpauth.TicketAudience, "iat": now, "exp": now + 60, "jti": "j1"}),
		} {
			r := send(http.MethodGet, e.connectURL("ticket="+t), nil)
			Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), r.body)
			Expect(r.json()["error"]).To(ContainSubstring("needs an ID (jti) and a server binding (srv)"))
		}
	})
})

var _ = Describe("The connect confirmation", func() {
	It("escapes the chat account and allows no script", func() {
		e := newEnv(setup{})
		page, _ := e.confirmationPage(asUser(`<script>alert(1)</script>"'`), "")
		Expect(page.body).NotTo(ContainSubstring("<script>alert"))
		Expect(page.body).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;"))
		csp := page.Header.Get("Content-Security-Policy")
		Expect(csp).To(ContainSubstring("default-src 'none'"))
		Expect(csp).To(ContainSubstring("frame-ancestors 'none'"))
		Expect(csp).NotTo(ContainSubstring("script-src"))
		Expect(page.Header.Get("X-Frame-Options")).To(Equal("DENY"))
	})

	It("goes on only with the form of the sign-in in the browser's cookie", func() {
		e := newEnv(setup{})
		page, cookie := e.confirmationPage(asUser("alice"), "")
		other, _ := e.confirmationPage(asUser("alice"), "")

		r := e.confirmRequest(other, asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), "another page's form")
		Expect(r.Header.Get("Location")).To(BeEmpty())
		r = e.confirmRequest(page, asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest), "no cookie")
		Expect(e.fake.Counters().Authorize).To(BeZero())

		r = e.confirmRequest(page, asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		Expect(r.Header.Get("Location")).To(HavePrefix(e.fake.Endpoints().Authorization))
	})
})

var _ = Describe("On https", func() {
	It("keeps the flow in a __Host- cookie: Secure, Path=/, no Domain", func() {
		e := newEnv(setup{publicURL: "https://chat.example.com/mcp-auth"})
		isHost := func(c *http.Cookie) {
			GinkgoHelper()
			Expect(c.Name).To(Equal("__Host-mcp-flow." + e.ns + "." + e.name))
			Expect(c.Secure).To(BeTrue())
			Expect(c.Path).To(Equal("/"))
			Expect(c.Domain).To(BeEmpty())
			Expect(c.HttpOnly).To(BeTrue())
		}
		page, cookie := e.confirmationPage(asUser("alice"), "")
		isHost(cookie)
		r := e.confirmRequest(page, asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		confirmed := flowCookie(r)
		isHost(confirmed)
		authURL, err := url.Parse(r.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())

		r = send(http.MethodGet, e.localURL(authorize(authURL)), asUser("alice"), confirmed)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		_, err = e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		var cleared *http.Cookie
		for _, c := range r.Cookies() {
			if c.MaxAge < 0 {
				cleared = c
			}
		}
		Expect(cleared).NotTo(BeNil(), "the flow cookie was not deleted")
		isHost(cleared) // a browser deletes a __Host- cookie only when told with the same attributes
	})
})
