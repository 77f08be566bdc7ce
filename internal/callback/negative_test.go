package callback_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

// withISS is a fake on its own origins that sends RFC 9207's iss parameter.
var withISS = fakeauth.Options{SeparateOrigins: true, ISSParameter: true}

// expectNoSecret asserts that user has no token Secret.
func (e *env) expectNoSecret(user string) {
	GinkgoHelper()
	_, err := e.tokenSecret(user)
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a token Secret was written")
}

// callbacksCounted is the callback server's callbacks counter for result.
func callbacksCounted(result string) float64 {
	GinkgoHelper()
	families, err := registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "mcp_operator_callback_callbacks_total" && m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// withQuery returns u with key set to value.
func withQuery(u *url.URL, key, value string) string {
	v := u.Query()
	v.Set(key, value)
	c := *u
	c.RawQuery = v.Encode()
	return c.String()
}

var _ = Describe("The callback refuses", func() {
	It("a missing cookie", func() {
		e := newEnv(setup{})
		authURL, _ := e.startFlow(asUser("alice"), "")
		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("cookie is missing"))
		e.expectNoSecret("alice")
		Expect(e.fake.Counters().TokenCode).To(BeZero())
	})

	It("an expired cookie", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		cb := authorize(authURL)
		e.offset.Store(int64(11 * time.Minute))
		r := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("longer than 10 minutes"))
		e.expectNoSecret("alice")
	})

	It("a tampered cookie", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		b := []byte(cookie.Value)
		b[len(b)/2] ^= 0x01
		if b[len(b)/2] == '-' || b[len(b)/2] == '_' {
			b[len(b)/2] = 'A'
		}
		cookie.Value = string(b)
		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("not valid"))
		e.expectNoSecret("alice")
	})

	It("a cookie of another server, though its state and code are genuine", func() {
		e := newEnv(setup{})
		other := e.createServer("other", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}, true)
		e.configure(other, []string{"mcp:read"}, false, true, nil)
		authURL, cookie := e.startFlow(asUser("alice"), "")
		atOther, err := url.Parse(mcpauth.RedirectURI(e.url, e.ns, "other"))
		Expect(err).NotTo(HaveOccurred())
		atOther.RawQuery = authorize(authURL).RawQuery // the state sealed in the cookie
		cookie.Name = "mcp-flow." + e.ns + ".other"    // and the value under the other server's name
		badFlows := callbacksCounted("bad_flow")
		r := send(http.MethodGet, atOther.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("belongs to another server"))
		Expect(callbacksCounted("bad_flow")).To(Equal(badFlows + 1))
		Expect(e.fake.Counters().TokenCode).To(BeZero())
		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: mcpauth.TokenSecretName("other", "alice")}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a token Secret was written")
	})

	It("a state mismatch", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		r := send(http.MethodGet, withQuery(authorize(authURL), "state", "forged"), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("state mismatch"))
		e.expectNoSecret("alice")
		Expect(e.fake.Counters().TokenCode).To(BeZero())
	})

	It("a replayed callback", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		cb := authorize(authURL)
		first := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(first.StatusCode).To(Equal(http.StatusOK))
		cleared := false
		for _, c := range first.Cookies() {
			cleared = cleared || (c.Name == cookie.Name && c.MaxAge < 0)
		}
		Expect(cleared).To(BeTrue(), "the flow cookie was not cleared")
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())

		r := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("already used"))
		Expect(e.fake.Counters().TokenCode).To(Equal(1))
		again, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(again.ResourceVersion).To(Equal(sec.ResourceVersion))
	})

	It("an iss that does not match, ignoring its error parameters", func() {
		e := newEnv(setup{fake: withISS})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		e.fake.SetFault(fakeauth.Fault{WrongISS: true})
		cb := authorize(authURL)
		r := send(http.MethodGet, withQuery(cb, "error", "access_denied"), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("did not come from the expected authorization server"))
		Expect(r.body).NotTo(ContainSubstring("denied"))
		e.expectNoSecret("alice")
		Expect(e.fake.Counters().TokenCode).To(BeZero())
	})

	It("a missing iss when the authorization server advertises it", func() {
		e := newEnv(setup{fake: withISS})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		e.fake.SetFault(fakeauth.Fault{OmitISS: true})
		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("did not come from the expected authorization server"))
		e.expectNoSecret("alice")
		Expect(e.fake.Counters().TokenCode).To(BeZero())
	})

	It("error=access_denied with a clear page", func() {
		e := newEnv(setup{fake: withISS})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		cb, _ := url.Parse(mcpauth.RedirectURI(e.url, e.ns, e.name))
		q := url.Values{"error": {"access_denied"}, "error_description": {"<script>alert(1)</script>"},
			"state": {authURL.Query().Get("state")}, "iss": {e.fake.IssuerURL()}}
		cb.RawQuery = q.Encode()
		r := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusForbidden))
		Expect(r.body).To(ContainSubstring("access was denied"))
		Expect(r.body).NotTo(ContainSubstring("<script>alert"))
		e.expectNoSecret("alice")
	})

	It("a failed code exchange with 502 and no upstream detail", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		cb := authorize(authURL)
		e.fake.SetFault(fakeauth.Failing(http.StatusInternalServerError, fakeauth.EndpointToken))
		r := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadGateway))
		Expect(r.body).NotTo(ContainSubstring("server_error"))
		Expect(r.body).NotTo(ContainSubstring(e.fake.Endpoints().Token))
		Expect(r.body).NotTo(ContainSubstring("500"))
		e.expectNoSecret("alice")
	})

	It("an invalid_client exchange, and raises no re-registration signal: one callback request must not replace every user's client", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		cb := authorize(authURL)
		Expect(e.fake.RevokeClient(e.client.ID)).To(BeTrue())
		r := send(http.MethodGet, cb.String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusBadGateway))
		srv := &mcpv1.MCPServer{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(e.server), srv)).To(Succeed())
		Expect(srv.Annotations).NotTo(HaveKey(mcpv1.AnnotationClientInvalid))
		e.expectNoSecret("alice")
	})
})

// ticket signs claims with the test key.
func ticket(claims jwt.MapClaims) string {
	GinkgoHelper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(ticketKey)
	Expect(err).NotTo(HaveOccurred())
	return s
}

var _ = Describe("Who the user is", func() {
	It("accepts a valid ticket on connect and as a bearer on the JSON routes", func() {
		e := newEnv(setup{})
		t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "bob", Server: e.ns + "/" + e.name})
		Expect(err).NotTo(HaveOccurred())
		authURL, cookie := e.startFlow(nil, "ticket="+url.QueryEscape(t))
		Expect(send(http.MethodGet, authorize(authURL).String(), nil, cookie).StatusCode).To(Equal(http.StatusOK))
		_, err = e.tokenSecret("bob")
		Expect(err).NotTo(HaveOccurred())

		list, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "bob", AnyServer: true})
		Expect(err).NotTo(HaveOccurred())
		By("a bearer ticket may be used again until it expires")
		Expect(e.connectionOf(bearer(list), e.name)).To(HaveKeyWithValue("connected", true))
		Expect(e.connectionOf(bearer(list), e.name)).To(HaveKeyWithValue("connected", true))

		By("but not one spent in a connect link: a link in a proxy log is worthless")
		r := send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, bearer(t))
		Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), r.body)
		Expect(r.json()["error"]).To(ContainSubstring("already used"))
		_, err = e.tokenSecret("bob")
		Expect(err).NotTo(HaveOccurred())

		del, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "bob", Server: e.ns + "/" + e.name})
		Expect(err).NotTo(HaveOccurred())
		Expect(send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, bearer(del)).StatusCode).To(Equal(http.StatusNoContent))
		e.expectNoSecret("bob")
	})

	It("refuses an invalid ticket", func() {
		e := newEnv(setup{})
		bad, err := mcpauth.MintTicket([]byte("another-key-0123456789abcdef-012345"), mcpauth.Ticket{User: "bob", Server: e.ns + "/" + e.name})
		Expect(err).NotTo(HaveOccurred())
		r := send(http.MethodGet, e.connectURL("ticket="+url.QueryEscape(bad)), nil)
		Expect(r.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(r.json()).To(HaveKey("error"))
		Expect(send(http.MethodGet, e.url+"/connections", bearer("garbage")).StatusCode).To(Equal(http.StatusUnauthorized))
	})

	It("refuses an expired ticket", func() {
		e := newEnv(setup{})
		now := time.Now()
		t := ticket(jwt.MapClaims{"sub": "bob", "aud": mcpauth.TicketAudience, "iat": now.Add(-8 * time.Minute).Unix(), "exp": now.Add(-2 * time.Minute).Unix()})
		r := send(http.MethodGet, e.connectURL("ticket="+t), nil)
		Expect(r.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(r.json()["error"]).To(ContainSubstring("expired"))
	})

	It("refuses a ticket for another audience", func() {
		e := newEnv(setup{})
		now := time.Now()
		t := ticket(jwt.MapClaims{"sub": "bob", "aud": "someone-else", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		Expect(send(http.MethodGet, e.connectURL("ticket="+t), nil).StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(send(http.MethodGet, e.url+"/connections", bearer(t)).StatusCode).To(Equal(http.StatusUnauthorized))
	})

	It("refuses a ticket bound to another server", func() {
		e := newEnv(setup{})
		t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "bob", Server: e.ns + "/other"})
		Expect(err).NotTo(HaveOccurred())
		Expect(send(http.MethodGet, e.connectURL("ticket="+url.QueryEscape(t)), nil).StatusCode).To(Equal(http.StatusForbidden))
		Expect(send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, bearer(t)).StatusCode).To(Equal(http.StatusForbidden))
	})

	It("answers 401 with a JSON error when the header is absent", func() {
		e := newEnv(setup{})
		for _, r := range []response{
			send(http.MethodGet, e.connectURL(""), nil),
			send(http.MethodGet, e.url+"/connections", nil),
			send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, nil),
			send(http.MethodGet, e.connectURL(""), asUser("  ")),
		} {
			Expect(r.StatusCode).To(Equal(http.StatusUnauthorized))
			Expect(r.Header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.json()).To(HaveKey("error"))
		}
	})

	It("connects a user ID of mcpauth.MaxUserIDBytes, and refuses one byte more naming the limit", func() {
		e := newEnv(setup{})
		// Characters JSON escapes (six bytes for <, & and >) and a two-byte
		// one: they must not make an ID under the limit too large.
		const chunk = `<a&"ü\>` // 8 bytes
		longest := strings.Repeat(chunk, mcpauth.MaxUserIDBytes/len(chunk))
		Expect(longest).To(HaveLen(mcpauth.MaxUserIDBytes))

		By("the trusted header")
		Expect(e.connect(longest, "").StatusCode).To(Equal(http.StatusOK))
		sec, err := e.tokenSecret(longest)
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Annotations).To(HaveKeyWithValue(mcpv1.AnnotationUser, longest))
		Expect(e.connectionOf(asUser(longest), e.name)).To(HaveKeyWithValue("connected", true))
		tok, err := mcpauth.GetToken(ctx, k8sClient, e.ns, e.name, longest)
		Expect(err).NotTo(HaveOccurred())
		Expect(tok.AccessToken).To(Equal(string(sec.Data[mcpauth.KeyAccessToken])))

		By("a ticket")
		ticketUser := strings.Repeat("t", mcpauth.MaxUserIDBytes)
		t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: ticketUser, Server: e.ns + "/" + e.name})
		Expect(err).NotTo(HaveOccurred())
		authURL, cookie := e.startFlow(nil, "ticket="+url.QueryEscape(t))
		Expect(send(http.MethodGet, authorize(authURL).String(), nil, cookie).StatusCode).To(Equal(http.StatusOK))
		_, err = e.tokenSecret(ticketUser)
		Expect(err).NotTo(HaveOccurred())

		By("one byte more, through either")
		now := time.Now()
		tooLong := ticket(jwt.MapClaims{"sub": ticketUser + "t", "aud": mcpauth.TicketAudience, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			"jti": "too-long", "srv": e.ns + "/" + e.name})
		reason := fmt.Sprintf("the user ID is %d bytes long; at most %d bytes fit in the sign-in cookie", mcpauth.MaxUserIDBytes+1, mcpauth.MaxUserIDBytes)
		for _, r := range []response{
			send(http.MethodGet, e.connectURL(""), asUser(longest+"x")),
			send(http.MethodGet, e.connectURL("ticket="+tooLong), nil),
		} {
			Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), r.body)
			Expect(r.json()).To(HaveKeyWithValue("error", reason))
			Expect(r.Cookies()).To(BeEmpty())
		}
	})

	It("takes the user from the cookie, never from the callback request's query", func() {
		e := newEnv(setup{})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		mallorys, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "mallory", Server: e.ns + "/" + e.name})
		Expect(err).NotTo(HaveOccurred())
		Expect(send(http.MethodGet, withQuery(authorize(authURL), "ticket", mallorys), asUser("alice"), cookie).StatusCode).To(Equal(http.StatusOK))
		_, err = e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		e.expectNoSecret("mallory")
	})

	It("lets no user act on another user's connection", func() {
		e := newEnv(setup{})
		Expect(e.connect("bob", "").StatusCode).To(Equal(http.StatusOK))
		bobs, err := e.tokenSecret("bob")
		Expect(err).NotTo(HaveOccurred())

		Expect(e.connectionOf(asUser("alice"), e.name)).To(HaveKeyWithValue("connected", false))
		Expect(send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, asUser("alice")).StatusCode).To(Equal(http.StatusNoContent))
		still, err := e.tokenSecret("bob")
		Expect(err).NotTo(HaveOccurred())
		Expect(still.UID).To(Equal(bobs.UID))
		Expect(e.fake.WasRevoked(string(bobs.Data[tokensecret.KeyRefreshToken]))).To(BeFalse())
		Expect(e.connectionOf(asUser("bob"), e.name)).To(HaveKeyWithValue("connected", true))

		// Alice's cookie cannot finish a flow in Bob's browser: refused, and
		// nothing written for either.
		authURL, cookie := e.startFlow(asUser("alice"), "")
		Expect(send(http.MethodGet, authorize(authURL).String(), asUser("bob"), cookie).StatusCode).To(Equal(http.StatusForbidden))
		e.expectNoSecret("alice")
		after, err := e.tokenSecret("bob")
		Expect(err).NotTo(HaveOccurred())
		Expect(after.ResourceVersion).To(Equal(still.ResourceVersion))
	})
})

var _ = Describe("Connect refuses", func() {
	It("a return_to that is not allowed", func() {
		e := newEnv(setup{})
		for _, rt := range []string{"https://evil.example.com/x", "//evil.example.com", "/relative", "javascript:alert(1)", "https://chat.example.com.evil.com/"} {
			r := send(http.MethodGet, e.connectURL("return_to="+url.QueryEscape(rt)), asUser("alice"))
			Expect(r.StatusCode).To(Equal(http.StatusBadRequest), rt)
			Expect(r.Header.Get("Location")).To(BeEmpty())
			Expect(r.Cookies()).To(BeEmpty())
		}
	})

	It("a disabled server", func() {
		e := newEnv(setup{})
		off := false
		e.server.Spec.Enabled = &off
		Expect(k8sClient.Update(ctx, e.server)).To(Succeed())
		r := send(http.MethodGet, e.connectURL(""), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusConflict))
		Expect(r.body).To(ContainSubstring("disabled"))
		Expect(e.connections(asUser("alice"))).To(BeEmpty())
	})

	It("a server that does not use OAuth2", func() {
		e := newEnv(setup{})
		e.createServer("apikey", mcpv1.Auth{Type: mcpv1.AuthTypeNone}, true)
		r := send(http.MethodGet, mcpauth.ConnectURL(e.url, e.ns, "apikey"), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(r.body).To(ContainSubstring("not OAuth2"))
	})

	It("a server that is not configured yet", func() {
		e := newEnv(setup{notReady: true})
		Expect(meta.IsStatusConditionTrue(e.server.Status.Conditions, mcpv1.ConditionAuthConfigured)).To(BeFalse())
		r := send(http.MethodGet, e.connectURL(""), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusServiceUnavailable))
		Expect(r.body).To(ContainSubstring("not configured"))
	})

	It("a server that does not exist", func() {
		e := newEnv(setup{})
		r := send(http.MethodGet, mcpauth.ConnectURL(e.url, e.ns, "missing"), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusNotFound))
		Expect(strings.Contains(r.body, "missing")).To(BeTrue())
	})
})
