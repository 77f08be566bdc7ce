package callback_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// tokenListener serves e's token handler on its own loopback listener, as
// --token-listen does, and returns its base URL.
func (e *env) tokenListener() string {
	GinkgoHelper()
	h, err := e.cb.TokenHandler()
	Expect(err).NotTo(HaveOccurred())
	ts := httptest.NewServer(h)
	DeferCleanup(ts.Close)
	return ts.URL
}

// ticketFor mints a bearer ticket for user bound to server ("" for AnyServer).
func ticketFor(key []byte, user, server string) http.Header {
	GinkgoHelper()
	t, err := mcpauth.MintTicket(key, mcpauth.Ticket{User: user, Server: server, AnyServer: server == ""})
	Expect(err).NotTo(HaveOccurred())
	return bearer(t)
}

// tokenAnswer is the code of a token endpoint's refusal, checked to be
// JSON with a message.
func (r response) code() string {
	GinkgoHelper()
	m := r.json()
	Expect(m).To(HaveKeyWithValue("error", Not(BeEmpty())))
	code, _ := m["code"].(string)
	return code
}

var _ = Describe("The token endpoint", func() {
	var (
		e      *env
		tokens string // the token listener's base URL
		path   string // /token/<ns>/github
		own    string // alice's ticket binding: <ns>/github
	)
	BeforeEach(func() {
		e = newEnv(setup{})
		tokens = e.tokenListener()
		path = mcpauth.RoutePath(mcpauth.TokenPattern, e.ns, e.name)
		own = e.ns + "/" + e.name
		r := e.connect("alice", "")
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
	})

	It("answers the ticket's user's access token, its expiry and resource, and never the refresh token", func() {
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		refresh := string(sec.Data[tokensecret.KeyRefreshToken])
		Expect(refresh).NotTo(BeEmpty())

		for _, binding := range []string{own, ""} {
			r := send(http.MethodGet, tokens+path, ticketFor(ticketKey, "alice", binding))
			Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
			Expect(r.Header.Get("Cache-Control")).To(Equal("no-store"))
			Expect(r.Header.Get("Content-Type")).To(Equal("application/json"))
			Expect(r.body).NotTo(ContainSubstring(refresh))
			m := r.json()
			Expect(m).To(HaveLen(5), "exactly access_token, token_type, expires_at, resource, scope: %v", m)
			Expect(m).To(HaveKeyWithValue("access_token", string(sec.Data[mcpauth.KeyAccessToken])))
			Expect(m).To(HaveKeyWithValue("token_type", "Bearer"))
			Expect(m).To(HaveKeyWithValue("resource", e.fake.MCPURL()))
			Expect(m).To(HaveKeyWithValue("expires_at", string(sec.Data[mcpauth.KeyExpiry])))
			Expect(m).To(HaveKeyWithValue("scope", "mcp:read"))
		}
	})

	It("answers through mcpauth.TokenEndpoint, which maps refusals to mcpauth's errors", func() {
		ep := mcpauth.TokenEndpoint{URL: tokens, TicketKey: ticketKey}
		tok, err := ep.Token(ctx, e.ns, e.name, "alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(e.fake.GrantAlive(tok.AccessToken)).To(BeTrue())
		Expect(tok.Resource).To(Equal(e.fake.MCPURL()))
		Expect(tok.Expiry).To(BeTemporally(">", time.Now()))
		Expect(tok.Scopes).To(ConsistOf("mcp:read"))

		_, err = ep.Token(ctx, e.ns, e.name, "bob")
		Expect(err).To(MatchError(mcpauth.ErrNotConnected))
		_, err = ep.Token(ctx, e.ns, "nope", "alice")
		Expect(err).To(MatchError(mcpauth.ErrUnknownServer))
		_, err = mcpauth.TokenEndpoint{URL: tokens, TicketKey: []byte(strings.Repeat("x", 32))}.Token(ctx, e.ns, e.name, "alice")
		var refused *mcpauth.EndpointError
		Expect(errors.As(err, &refused)).To(BeTrue(), "%v", err)
		Expect(refused.Status).To(Equal(http.StatusUnauthorized))

		list, err := ep.Servers(ctx, "alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(list).To(HaveLen(1))
		Expect(list[0].Name).To(Equal(e.name))
		Expect(list[0].URL).To(Equal(e.fake.MCPURL()))
		Expect(list[0].AuthType).To(Equal(mcpv1.AuthTypeOAuth2))
		Expect(list[0].Connected).To(BeTrue())
		list, err = ep.Servers(ctx, "bob")
		Expect(err).NotTo(HaveOccurred())
		Expect(list[0].Connected).To(BeFalse())
	})

	It("never answers another user's token", func() {
		r := send(http.MethodGet, tokens+path, ticketFor(ticketKey, "bob", own))
		Expect(r.StatusCode).To(Equal(http.StatusNotFound), r.body)
		Expect(r.code()).To(Equal(mcpauth.CodeNotConnected))
	})

	It("refuses a request without a valid ticket with 401, and believes no trusted header", func() {
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		at := string(sec.Data[mcpauth.KeyAccessToken])
		t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "alice", Server: own})
		Expect(err).NotTo(HaveOccurred())
		for name, req := range map[string]struct {
			url    string
			header http.Header
		}{
			"the trusted header":       {tokens + path, asUser("alice")},
			"no ticket":                {tokens + path, nil},
			"a ticket in the URL":      {tokens + path + "?ticket=" + t, nil},
			"a ticket of another key":  {tokens + path, ticketFor([]byte(strings.Repeat("k", 32)), "alice", own)},
			"a malformed ticket":       {tokens + path, bearer("not-a-ticket")},
			"a ticket in a Basic auth": {tokens + path, http.Header{"Authorization": {"Basic " + t}}},
		} {
			r := send(http.MethodGet, req.url, req.header)
			Expect(r.StatusCode).To(Equal(http.StatusUnauthorized), "%s: %s", name, r.body)
			Expect(r.body).NotTo(ContainSubstring(at), name)
		}
	})

	It("refuses a ticket bound to another server with 403", func() {
		other := e.createServer("linear", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}, true)
		r := send(http.MethodGet, tokens+path, ticketFor(ticketKey, "alice", e.ns+"/"+other.Name))
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), r.body)
	})

	It("answers 404 for a server that does not exist, is disabled or is in another namespace", func() {
		e.createServer("off", mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}, false)
		for _, name := range []string{"nope", "off"} {
			r := send(http.MethodGet, tokens+mcpauth.RoutePath(mcpauth.TokenPattern, e.ns, name), ticketFor(ticketKey, "alice", ""))
			Expect(r.StatusCode).To(Equal(http.StatusNotFound), r.body)
			Expect(r.code()).To(Equal(mcpauth.CodeUnknownServer), name)
		}
		r := send(http.MethodGet, tokens+mcpauth.RoutePath(mcpauth.TokenPattern, "default", e.name), ticketFor(ticketKey, "alice", ""))
		Expect(r.StatusCode).To(Equal(http.StatusNotFound), r.body)
	})

	It("answers 409 for a server without per-user tokens", func() {
		e.createServer("open", mcpv1.Auth{}, true)
		r := send(http.MethodGet, tokens+mcpauth.RoutePath(mcpauth.TokenPattern, e.ns, "open"), ticketFor(ticketKey, "alice", ""))
		Expect(r.StatusCode).To(Equal(http.StatusConflict), r.body)
		Expect(r.code()).To(Equal(mcpauth.CodeNoUserToken))
	})

	It("answers 503 with Retry-After while a refresh is pending, and 409 when the user must connect again", func() {
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		exp, err := time.Parse(time.RFC3339, string(sec.Data[mcpauth.KeyExpiry]))
		Expect(err).NotTo(HaveOccurred())
		e.offset.Store(int64(time.Until(exp)))
		r := send(http.MethodGet, tokens+path, ticketFor(ticketKey, "alice", own))
		Expect(r.StatusCode).To(Equal(http.StatusServiceUnavailable), r.body)
		Expect(r.Header.Get("Retry-After")).NotTo(BeEmpty())
		Expect(r.code()).To(Equal(mcpauth.CodeRefreshPending))
		Expect(r.body).NotTo(ContainSubstring(string(sec.Data[mcpauth.KeyAccessToken])))
		e.offset.Store(0)

		sec.Annotations[mcpauth.AnnotationState] = string(mcpauth.StateReauthorizationRequired)
		Expect(k8sClient.Update(ctx, sec)).To(Succeed())
		r = send(http.MethodGet, tokens+path, ticketFor(ticketKey, "alice", own))
		Expect(r.StatusCode).To(Equal(http.StatusConflict), r.body)
		Expect(r.code()).To(Equal(mcpauth.CodeReauthorizationRequired))
	})

	It("hands out no token from a Secret its MCPServer does not control", func() {
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		sec.OwnerReferences = nil
		Expect(k8sClient.Update(ctx, sec)).To(Succeed())
		r := send(http.MethodGet, tokens+path, ticketFor(ticketKey, "alice", own))
		Expect(r.StatusCode).To(Equal(http.StatusNotFound), r.body)
		Expect(r.code()).To(Equal(mcpauth.CodeNotConnected))
		Expect(e.connectionOf(asUser("alice"), e.name)).To(HaveKeyWithValue("connected", false), "/connections agrees")
	})

	It("lists the MCPServers on /servers, to an unbound ticket only", func() {
		r := send(http.MethodGet, tokens+mcpauth.ServersPath, ticketFor(ticketKey, "alice", ""))
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		var list mcpauth.ServerList
		Expect(json.Unmarshal([]byte(r.body), &list)).To(Succeed())
		Expect(list.User).To(Equal("alice"))
		Expect(list.Servers).To(HaveLen(1))
		Expect(list.Servers[0]).To(HaveField("URL", e.fake.MCPURL()))
		Expect(list.Servers[0]).To(HaveField("Connected", true))

		r = send(http.MethodGet, tokens+mcpauth.ServersPath, ticketFor(ticketKey, "alice", own))
		Expect(r.StatusCode).To(Equal(http.StatusForbidden), r.body)
	})

	It("is not served by the user-facing listener", func() {
		for _, p := range []string{path, mcpauth.ServersPath} {
			r := send(http.MethodGet, e.local+p, ticketFor(ticketKey, "alice", ""))
			Expect(r.StatusCode).To(Equal(http.StatusNotFound), "%s: %s", p, r.body)
		}
	})
})

var _ = Describe("The token handler", func() {
	It("needs ticket mode", func() {
		e := newEnv(setup{modes: headerOnly})
		_, err := e.cb.TokenHandler()
		Expect(err).To(MatchError(ContainSubstring("ticket")))
	})
})

var _ = DescribeTable("The token listener's address",
	func(addr string, ok bool) {
		err := callback.CheckLoopback(addr)
		if ok {
			Expect(err).NotTo(HaveOccurred())
		} else {
			Expect(err).To(HaveOccurred())
		}
	},
	Entry("127.0.0.1", "127.0.0.1:8091", true),
	Entry("::1", "[::1]:8091", true),
	Entry("any port", "127.0.0.1:0", true),
	Entry("all interfaces", "0.0.0.0:8091", false),
	Entry("no host", ":8091", false),
	Entry("IPv6 all", "[::]:8091", false),
	Entry("a pod IP", "10.1.2.3:8091", false),
	Entry("a name", "localhost:8091", false),
	Entry("no port", "127.0.0.1", false),
)
