package callback_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

var _ = Describe("Connecting", func() {
	It("runs connect → callback → token Secret → /connections shows connected", func() {
		e := newEnv(setup{fake: withISS})
		authURL, cookie := e.startFlow(asUser("alice@example.com"), "")
		q := authURL.Query()
		Expect(q.Get("client_id")).To(Equal(e.client.ID))
		Expect(q.Get("redirect_uri")).To(Equal(mcpauth.RedirectURI(e.url, e.ns, e.name)))
		Expect(q.Get("code_challenge_method")).To(Equal("S256"))
		Expect(q.Get("resource")).To(Equal(e.fake.MCPURL()))
		Expect(q.Get("scope")).To(Equal("mcp:read"))
		Expect(q.Get("state")).NotTo(BeEmpty())
		Expect(cookie.Name).To(Equal("mcp-flow."+e.ns+"."+e.name), "plain http cannot carry the __Host- prefix")
		Expect(cookie.HttpOnly).To(BeTrue())
		Expect(cookie.Secure).To(BeFalse())
		Expect(cookie.Path).To(Equal("/"))
		Expect(cookie.SameSite).To(Equal(http.SameSiteLaxMode))
		Expect(cookie.MaxAge).To(BeNumerically("~", 600, 1))

		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice@example.com"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		Expect(r.Header.Get("Content-Security-Policy")).To(ContainSubstring("default-src 'none'"))
		Expect(r.Header.Get("Cache-Control")).To(Equal("no-store"))

		sec, err := e.tokenSecret("alice@example.com")
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Type).To(Equal(mcpv1.SecretTypeUserToken))
		Expect(sec.Labels).To(Equal(mcpauth.TokenSecretLabels(e.name, "alice@example.com")))
		Expect(sec.Annotations).To(HaveKeyWithValue(mcpv1.AnnotationUser, "alice@example.com"))
		Expect(sec.Annotations).To(HaveKeyWithValue(mcpauth.AnnotationState, string(mcpauth.StateActive)))
		Expect(sec.Annotations).To(HaveKey(tokensecret.AnnotationGrantID))
		Expect(sec.Annotations).To(HaveKey(tokensecret.AnnotationIssuedAt))
		Expect(sec.OwnerReferences).To(HaveLen(1))
		Expect(sec.OwnerReferences[0].UID).To(Equal(e.server.UID))
		Expect(*sec.OwnerReferences[0].Controller).To(BeTrue())
		for _, k := range []string{mcpauth.KeyAccessToken, mcpauth.KeyTokenType, tokensecret.KeyRefreshToken, mcpauth.KeyExpiry, mcpauth.KeyScope, tokensecret.KeyIssuer, mcpauth.KeyResource} {
			Expect(sec.Data).To(HaveKey(k))
		}
		Expect(r.body).NotTo(ContainSubstring(string(sec.Data[mcpauth.KeyAccessToken])))
		Expect(e.fake.GrantAlive(string(sec.Data[mcpauth.KeyAccessToken]))).To(BeTrue())
		Expect(string(sec.Data[tokensecret.KeyIssuer])).To(Equal(e.fake.IssuerURL()))
		Expect(string(sec.Data[tokensecret.KeyTokenEndpoint])).To(Equal(e.fake.Endpoints().Token), "the refresh token is bound to it")
		Expect(string(sec.Data[tokensecret.KeyClientID])).To(And(Not(BeEmpty()), Equal(e.server.Status.OAuth2.ClientID)), "a retired client takes only its own users")
		Expect(string(sec.Data[mcpauth.KeyResource])).To(Equal(e.fake.MCPURL()))
		_, err = time.Parse(time.RFC3339, string(sec.Data[mcpauth.KeyExpiry]))
		Expect(err).NotTo(HaveOccurred())

		c := e.connectionOf(asUser("alice@example.com"), e.name)
		Expect(c).To(HaveKeyWithValue("connected", true))
		Expect(c).To(HaveKeyWithValue("displayName", "Display github"))
		Expect(c).To(HaveKeyWithValue("authType", "OAuth2"))
		Expect(c).To(HaveKey("expiry"))
		Expect(c["scopes"]).To(ConsistOf("mcp:read"))
	})

	It("adds spec's additional authorization parameters to the authorization request", func() {
		e := newEnv(setup{oauth2: &mcpv1.OAuth2Auth{AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{
			"access_type": "offline", "prompt": "consent", "audience": "https://api.example.com"}}})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		Expect(send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie).StatusCode).To(Equal(http.StatusOK))
		q := e.fake.LastAuthorizeRequest()
		Expect(q.Get("access_type")).To(Equal("offline"))
		Expect(q.Get("prompt")).To(Equal("consent"))
		Expect(q.Get("audience")).To(Equal("https://api.example.com"))
		Expect(q.Get("resource")).To(Equal(e.fake.MCPURL()), "the resource is still sent")
	})

	It("signs in to a provider that requires an audience only with additionalAuthorizationParameters naming it", func() {
		const audience = "https://api.example.com"
		without := newEnv(setup{fake: fakeauth.Options{RequireAudience: audience}})
		r := without.connect("alice", "")
		Expect(r.StatusCode).NotTo(Equal(http.StatusOK), "the provider refused the request without audience")
		_, err := without.tokenSecret("alice")
		Expect(err).To(HaveOccurred(), "no token Secret is written")

		e := newEnv(setup{fake: fakeauth.Options{RequireAudience: audience},
			oauth2: &mcpv1.OAuth2Auth{AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"audience": audience}}})
		r = e.connect("alice", "")
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(e.fake.GrantAlive(string(sec.Data[mcpauth.KeyAccessToken]))).To(BeTrue())
	})

	It("reads no Secret before the callback, and stores a first connection with one request", func() {
		calls := &callLog{}
		e := newEnv(setup{wrapClient: func(c client.Client) client.Client { return &loggingClient{Client: c, log: calls} }})
		page, cookie := e.confirmationPage(asUser("alice"), "")
		r := e.confirmRequest(page, asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		Expect(calls.take()).To(Equal([]string{
			"get MCPServer " + e.name, "get Secret " + mcpauth.TokenSecretName(e.name, "alice"), // the connect page: granted scopes
			"get MCPServer " + e.name, // the confirmation: the authorization request comes from status
		}), "the client Secret is read only for the code exchange")

		authURL, err := url.Parse(r.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(send(http.MethodGet, e.localURL(authorize(authURL)), asUser("alice"), flowCookie(r)).StatusCode).To(Equal(http.StatusOK))
		callback := calls.take()
		Expect(callback).To(ContainElement("create Secret " + mcpauth.TokenSecretName(e.name, "alice")))
		Expect(callback).NotTo(ContainElement("get Secret "+mcpauth.TokenSecretName(e.name, "alice")), "a first connection is created without a read")
	})

	It("sends no resource under resourceIndicator.send Never, to a provider that refuses one, and records none", func() {
		e := newEnv(setup{fake: fakeauth.Options{RejectResourceOnAuthorize: true},
			oauth2: &mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorNever}}})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		Expect(authURL.Query().Has("resource")).To(BeFalse())
		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Data).NotTo(HaveKey(mcpauth.KeyResource), "no resource was sent, so none is recorded")
		Expect(e.fake.GrantAlive(string(sec.Data[mcpauth.KeyAccessToken]))).To(BeTrue())
	})

	It("sends resourceIndicator.value instead of the discovered resource, on authorization and code exchange, and records it", func() {
		const appID = "api://00000000-0000-0000-0000-00000000a11a"
		e := newEnv(setup{fake: fakeauth.Options{ResourceAliases: []string{appID}},
			oauth2: &mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorExceptRefresh, Value: appID}}})
		authURL, cookie := e.startFlow(asUser("alice"), "")
		Expect(authURL.Query()["resource"]).To(Equal([]string{appID}))
		// The fake binds the code to appID: an exchange naming another
		// resource fails with invalid_target.
		r := send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(sec.Data[mcpauth.KeyResource])).To(Equal(appID))
	})

	It("keeps the sign-in through stray requests to the callback: only the flow's own response ends it", func() {
		e := newEnv(setup{fake: withISS})
		jar, err := cookiejar.New(nil)
		Expect(err).NotTo(HaveOccurred())
		// A browser behind the proxy: it keeps cookies, and deletes them when
		// told to; the proxy adds the user header.
		browser := &http.Client{Jar: jar, CheckRedirect: noFollow.CheckRedirect}
		do := func(method, u, body string) response {
			GinkgoHelper()
			req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set(userHeader, "alice")
			if body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := browser.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return response{resp, string(b)}
		}
		get := func(u string) response { GinkgoHelper(); return do(http.MethodGet, u, "") }
		callbackURL, err := url.Parse(mcpauth.RedirectURI(e.url, e.ns, e.name))
		Expect(err).NotTo(HaveOccurred())
		flowCookies := func() []*http.Cookie { return jar.Cookies(callbackURL) }
		stray := func(what string) {
			GinkgoHelper()
			for _, q := range []string{"", "?state=forged&code=x", "?error=access_denied"} {
				r := get(callbackURL.String() + q)
				Expect(r.StatusCode).To(Equal(http.StatusBadRequest), q)
				Expect(r.body).To(ContainSubstring(what), q)
				Expect(flowCookies()).To(HaveLen(1), "the stray request %q ended the sign-in", q)
			}
		}

		page := get(e.connectURL(""))
		Expect(page.StatusCode).To(Equal(http.StatusOK), page.body)
		Expect(flowCookies()).To(HaveLen(1))
		stray("not confirmed")
		action, fields, ok := harness.ConfirmForm(page.body)
		Expect(ok).To(BeTrue())
		r := do(http.MethodPost, action, fields.Encode())
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		authURL, err := url.Parse(r.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(flowCookies()).To(HaveLen(1))

		stray("state mismatch")
		Expect(e.fake.Counters().TokenCode).To(BeZero())

		r = get(authorize(authURL).String())
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		_, err = e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(flowCookies()).To(BeEmpty(), "the flow's own response ends it")
	})

	It("replaces the earlier grant on reconnect", func() {
		e := newEnv(setup{})
		Expect(e.connect("alice", "").StatusCode).To(Equal(http.StatusOK))
		first, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(e.connect("alice", "").StatusCode).To(Equal(http.StatusOK))
		second, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(second.UID).To(Equal(first.UID))
		Expect(second.Data[mcpauth.KeyAccessToken]).NotTo(Equal(first.Data[mcpauth.KeyAccessToken]))
		Expect(second.Annotations[tokensecret.AnnotationGrantID]).NotTo(Equal(first.Annotations[tokensecret.AnnotationGrantID]))
	})

	It("requests the union of server, requested and granted scopes on step-up", func() {
		e := newEnv(setup{})
		Expect(e.connect("alice", "scope=mcp:tools").StatusCode).To(Equal(http.StatusOK))
		authURL, cookie := e.startFlow(asUser("alice"), "scope=mcp:admin")
		Expect(strings.Fields(authURL.Query().Get("scope"))).To(Equal([]string{"mcp:read", "mcp:admin", "mcp:tools"}))
		Expect(send(http.MethodGet, authorize(authURL).String(), asUser("alice"), cookie).StatusCode).To(Equal(http.StatusOK))
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(oauth.ParseScope(string(sec.Data[mcpauth.KeyScope]))).To(ConsistOf("mcp:read", "mcp:admin", "mcp:tools"))
	})

	It("sends the user back to an allowed return_to with 303", func() {
		e := newEnv(setup{})
		r := e.connect("alice", "return_to="+e.returnOK+"/chat%3Fx%3D1")
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		Expect(r.Header.Get("Location")).To(Equal(e.returnOK + "/chat?x=1"))
	})

	It("disconnects: revokes at the authorization server and deletes the Secret", func() {
		e := newEnv(setup{})
		Expect(e.connect("alice", "").StatusCode).To(Equal(http.StatusOK))
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		e.fake.ResetCounters()

		r := send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusNoContent), r.body)
		Expect(e.fake.Counters().Revoke).To(Equal(2))
		Expect(e.fake.WasRevoked(string(sec.Data[tokensecret.KeyRefreshToken]))).To(BeTrue())
		Expect(e.fake.WasRevoked(string(sec.Data[mcpauth.KeyAccessToken]))).To(BeTrue())
		_, err = e.tokenSecret("alice")
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
		Expect(e.connectionOf(asUser("alice"), e.name)).To(HaveKeyWithValue("connected", false))

		// Nothing left: still 204.
		Expect(send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, asUser("alice")).StatusCode).To(Equal(http.StatusNoContent))
	})

	It("lists enabled servers only, non-OAuth2 ones as connected", func() {
		e := newEnv(setup{})
		e.createServer("plain", mcpv1.Auth{Type: mcpv1.AuthTypeNone}, true)
		e.createServer("off", mcpv1.Auth{Type: mcpv1.AuthTypeNone}, false)
		list := e.connections(asUser("alice"))
		Expect(list).To(HaveLen(2))
		Expect(list[0]).To(HaveKeyWithValue("name", e.name))
		Expect(list[0]).To(HaveKeyWithValue("connected", false))
		Expect(list[1]).To(HaveKeyWithValue("name", "plain"))
		Expect(list[1]).To(HaveKeyWithValue("connected", true))
	})

	It("treats a refresh token marked ReauthorizationRequired as not connected", func() {
		e := newEnv(setup{})
		Expect(e.connect("alice", "").StatusCode).To(Equal(http.StatusOK))
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		sec.Annotations[mcpauth.AnnotationState] = string(mcpauth.StateReauthorizationRequired)
		sec.Data[mcpauth.KeyExpiry] = []byte(time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
		Expect(k8sClient.Update(ctx, sec)).To(Succeed())
		Expect(e.connectionOf(asUser("alice"), e.name)).To(HaveKeyWithValue("connected", false))
	})

	It("serves the Client ID Metadata Document for CIMD servers only", func() {
		e := newEnv(setup{cimd: true})
		r := send(http.MethodGet, mcpauth.ClientMetadataURL(e.url, e.ns, e.name), nil)
		Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
		doc := r.json()
		Expect(doc).To(HaveKeyWithValue("client_id", mcpauth.ClientMetadataURL(e.url, e.ns, e.name)))
		Expect(doc["redirect_uris"]).To(ConsistOf(mcpauth.RedirectURI(e.url, e.ns, e.name)))
		Expect(doc).To(HaveKeyWithValue("token_endpoint_auth_method", "none"))

		e.createServer("static", mcpv1.Auth{Type: mcpv1.AuthTypeNone}, true)
		Expect(send(http.MethodGet, mcpauth.ClientMetadataURL(e.url, e.ns, "static"), nil).StatusCode).To(Equal(http.StatusNotFound))
		Expect(send(http.MethodGet, mcpauth.ClientMetadataURL(e.url, "other", e.name), nil).StatusCode).To(Equal(http.StatusNotFound))
	})

	It("serves health, readiness and metrics on the operations handler only, and 404 elsewhere", func() {
		e := newEnv(setup{})
		Expect(e.connect("alice", "").StatusCode).To(Equal(http.StatusOK))
		ops := httptest.NewServer(callback.OpsHandler(registry))
		DeferCleanup(ops.Close)
		Expect(send(http.MethodGet, ops.URL+"/healthz", nil).StatusCode).To(Equal(http.StatusOK))
		Expect(send(http.MethodGet, ops.URL+"/readyz", nil).StatusCode).To(Equal(http.StatusOK))
		m := send(http.MethodGet, ops.URL+"/metrics", nil)
		Expect(m.body).To(ContainSubstring(`mcp_operator_callback_callbacks_total{result="connected"}`))
		Expect(m.body).NotTo(ContainSubstring("alice"))
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			Expect(send(http.MethodGet, e.url+path, nil).StatusCode).To(Equal(http.StatusNotFound), "%s is not published on the user-facing listener", path)
		}
		Expect(send(http.MethodGet, e.url+"/nope", nil).StatusCode).To(Equal(http.StatusNotFound))
		Expect(send(http.MethodGet, e.url+"/connect/other-ns/"+e.name, asUser("alice")).StatusCode).To(Equal(http.StatusNotFound))
		Expect(send(http.MethodPut, e.connectURL(""), asUser("alice")).StatusCode).To(BeElementOf(http.StatusNotFound, http.StatusMethodNotAllowed))
		r := send(http.MethodPost, e.connectURL(""), asUser("alice"))
		Expect(r.StatusCode).To(Equal(http.StatusBadRequest), "a confirmation without a sign-in")
		Expect(r.body).To(ContainSubstring("cookie is missing"))
	})
})

// callLog records a client's requests as "verb Kind name".
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(verb string, obj client.Object) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kind := reflect.TypeOf(obj).Elem().Name()
	l.calls = append(l.calls, verb+" "+kind+" "+obj.GetName())
}

// take returns the requests so far and forgets them.
func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// loggingClient logs Get, Create and Update before passing them on.
type loggingClient struct {
	client.Client
	log *callLog
}

func (c *loggingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	obj.SetName(key.Name)
	c.log.add("get", obj)
	return c.Client.Get(ctx, key, obj, opts...)
}

func (c *loggingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.log.add("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *loggingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.log.add("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}
