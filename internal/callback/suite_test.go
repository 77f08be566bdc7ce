package callback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

var (
	scheme    = envtestutil.NewScheme()
	k8sClient client.Client
	ctx       context.Context
	registry  = prometheus.NewRegistry()
)

const userHeader = "X-Forwarded-User"

var (
	ticketKey = []byte("ticket-key-0123456789abcdef-0123456789")
	cookieKey = []byte("cookie-key-0123456789abcdef-0123456789")
)

func TestCallback(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	RunSpecs(t, "Callback server on a real kube-apiserver")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	registry.MustRegister(callback.Collectors()...)

	env, cfg, err := envtestutil.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

// env is one test's world: a namespace, a fake authorization server, an
// OAuth2 MCPServer configured by hand and a callback server.
type env struct {
	ns       string
	name     string
	fake     *fakeauth.Server
	client   fakeauth.Client
	server   *mcpv1.MCPServer
	cb       *callback.Server
	opts     callback.Options // cb's, for replicas
	url      string           // the callback server's public URL
	local    string           // where requests for url go (url, but for an https public URL)
	offset   atomic.Int64
	logs     *syncBuffer
	returnOK string
}

// identityModes: which of the trusted header and tickets the server takes.
type identityModes int

const (
	headerAndTickets identityModes = iota
	headerOnly
	ticketsOnly
)

type setup struct {
	fake        fakeauth.Options
	oauth2      *mcpv1.OAuth2Auth // spec.auth.oauth2; default {}
	scopes      []string
	cimd        bool
	notReady    bool // AuthConfigured not True yet
	verboseLogs bool
	modes       identityModes
	// publicURL, when set, is the server's public URL (e.g. https); the
	// test still sends requests to its plain-http listener.
	publicURL string
	// caBundle is what the manager copies from spec.caBundleRef into the
	// client Secret.
	caBundle []byte
	// wrapClient, when set, wraps the callback server's Kubernetes client.
	wrapClient func(client.Client) client.Client
}

func newEnv(o setup) *env {
	e := &env{name: "github", logs: &syncBuffer{}, returnOK: "https://chat.example.com"}
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cb-"}}
	Expect(k8sClient.Create(ctx, nsObj)).To(Succeed())
	e.ns = nsObj.Name

	if o.fake.Scopes == nil {
		o.fake.Scopes = []string{"mcp:read", "mcp:tools"}
	}
	e.fake = fakeauth.New(o.fake)
	DeferCleanup(e.fake.Close)

	ts := httptest.NewUnstartedServer(nil)
	e.url, e.local = "http://"+ts.Listener.Addr().String(), "http://"+ts.Listener.Addr().String()
	if o.publicURL != "" {
		pub, err := url.Parse(o.publicURL)
		Expect(err).NotTo(HaveOccurred())
		e.url, e.local = o.publicURL, e.local+pub.Path
	}
	redirect := mcpauth.RedirectURI(e.url, e.ns, e.name)
	e.client = e.fake.AddClient(fakeauth.Client{RedirectURIs: []string{redirect}, AuthMethod: fakeauth.AuthBasic})

	log := logr.Discard()
	if o.verboseLogs {
		log = zap.New(zap.WriteTo(e.logs), zap.Level(zapLevelAll))
	}
	e.opts = callback.Options{
		Namespace:            e.ns,
		PublicURL:            e.url,
		UserHeader:           userHeader,
		TicketKeys:           [][]byte{ticketKey},
		CookieKeys:           [][]byte{cookieKey},
		AllowedReturnOrigins: []string{e.returnOK},
		HTTPClient:           oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}),
		Client:               client.NewNamespacedClient(k8sClient, e.ns),
		Log:                  log,
		Now:                  func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
	}
	if o.wrapClient != nil {
		e.opts.Client = o.wrapClient(e.opts.Client)
	}
	switch o.modes {
	case headerOnly:
		e.opts.TicketKeys = nil
	case ticketsOnly:
		e.opts.UserHeader = ""
	}
	cb, err := callback.New(e.opts)
	Expect(err).NotTo(HaveOccurred())
	e.cb = cb
	ts.Config.Handler = cb
	ts.Start()
	DeferCleanup(ts.Close)

	scopes := o.scopes
	if scopes == nil {
		scopes = []string{"mcp:read"}
	}
	spec := o.oauth2
	if spec == nil {
		spec = &mcpv1.OAuth2Auth{}
	}
	e.server = e.createServer(e.name, mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: spec}, true)
	e.configure(e.server, scopes, o.cimd, !o.notReady, o.caBundle)
	return e
}

// replica starts a second callback server with the same options (another
// replica behind the same public URL, sharing the API server) and returns
// where to send its requests.
func (e *env) replica() string {
	cb, err := callback.New(e.opts)
	Expect(err).NotTo(HaveOccurred())
	ts := httptest.NewServer(cb)
	DeferCleanup(ts.Close)
	return ts.URL
}

// createServer creates an MCPServer pointing at the fake.
func (e *env) createServer(name string, auth mcpv1.Auth, enabled bool) *mcpv1.MCPServer {
	srv := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name},
		Spec:       mcpv1.MCPServerSpec{DisplayName: "Display " + name, URL: e.fake.MCPURL(), Enabled: &enabled, Auth: auth},
	}
	Expect(k8sClient.Create(ctx, srv)).To(Succeed())
	return srv
}

// configure does what the reconciler would: status.oauth2, AuthConfigured
// and the client Secret.
func (e *env) configure(srv *mcpv1.MCPServer, scopes []string, cimd, ready bool, caBundle []byte) {
	ep := e.fake.Endpoints()
	redirect := mcpauth.RedirectURI(e.url, e.ns, srv.Name)
	cl := &oauth.Client{ClientID: e.client.ID, ClientSecret: e.client.Secret, TokenEndpointAuthMethod: oauth.AuthMethodClientSecretBasic,
		Method: oauth.MethodStatic, Issuer: ep.Issuer}
	reg := mcpv1.RegistrationStatic
	if cimd {
		reg = mcpv1.RegistrationCIMD
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: mcpv1.ClientSecretName(srv.Name)},
		Type:       mcpv1.SecretTypeOAuth2Client,
		Data:       serverconfig.ClientSecretData(cl, redirect),
	}
	if caBundle != nil {
		sec.Data[mcpv1.ClientKeyCABundle] = caBundle
	}
	Expect(k8sClient.Create(ctx, sec)).To(Succeed())
	status := metav1.ConditionTrue
	if !ready {
		status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&srv.Status.Conditions, metav1.Condition{Type: mcpv1.ConditionAuthConfigured, Status: status, Reason: mcpv1.ReasonStaticClient, Message: "test"})
	srv.Status.OAuth2 = &mcpv1.OAuth2Status{
		Issuer: ep.Issuer, AuthorizationEndpoint: ep.Authorization, TokenEndpoint: ep.Token, RevocationEndpoint: ep.Revocation,
		ISSParameterSupported: e.fake.Options().ISSParameter, Resource: ep.MCP, Scopes: scopes, Registration: reg,
		ClientID: cl.ClientID, ClientSecretName: sec.Name, RedirectURI: redirect,
	}
	Expect(k8sClient.Status().Update(ctx, srv)).To(Succeed())
}

// noFollow is a browser that shows each redirect instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	*http.Response
	body string
}

func (r response) json() map[string]any {
	var m map[string]any
	Expect(json.Unmarshal([]byte(r.body), &m)).To(Succeed(), r.body)
	return m
}

func send(method, u string, header http.Header, cookies ...*http.Cookie) response {
	GinkgoHelper()
	return sendBody(method, u, "", header, cookies...)
}

func sendBody(method, u, body string, header http.Header, cookies ...*http.Cookie) response {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noFollow.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, string(b)}
}

func asUser(user string) http.Header { return http.Header{userHeader: {user}} }

func bearer(ticket string) http.Header { return http.Header{"Authorization": {"Bearer " + ticket}} }

// connectURL is where to send a connect request (e.local); query is its query.
func (e *env) connectURL(query string) string {
	u := mcpauth.ConnectURL(e.local, e.ns, e.name)
	if query != "" {
		u += "?" + query
	}
	return u
}

// flowCookie returns the flow cookie a response set.
func flowCookie(r response) *http.Cookie {
	GinkgoHelper()
	for _, c := range r.Cookies() {
		if strings.Contains(c.Name, "mcp-flow.") && c.MaxAge > 0 {
			return c
		}
	}
	Fail("the response set no flow cookie")
	return nil
}

// confirmationPage opens connect and returns the confirmation page and
// the (unconfirmed) flow cookie it set.
func (e *env) confirmationPage(header http.Header, query string) (response, *http.Cookie) {
	GinkgoHelper()
	r := send(http.MethodGet, e.connectURL(query), header)
	Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
	return r, flowCookie(r)
}

// confirmRequest presses the confirmation page's button: it posts the page's
// form, to where the request for its action goes.
func (e *env) confirmRequest(page response, header http.Header, cookies ...*http.Cookie) response {
	GinkgoHelper()
	action, fields, ok := harness.ConfirmForm(page.body)
	Expect(ok).To(BeTrue(), "not a confirmation page: %s", page.body)
	Expect(action).To(Equal(mcpauth.ConnectURL(e.url, e.ns, e.name)))
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, v := range header {
		h[k] = v
	}
	return sendBody(http.MethodPost, e.connectURL(""), fields.Encode(), h, cookies...)
}

// startFlow connects as header says (user or ticket), confirms and returns
// the authorization URL and the confirmed flow cookie.
func (e *env) startFlow(header http.Header, query string) (*url.URL, *http.Cookie) {
	GinkgoHelper()
	page, cookie := e.confirmationPage(header, query)
	r := e.confirmRequest(page, withoutTicket(header), cookie)
	Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
	loc, err := url.Parse(r.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	return loc, flowCookie(r)
}

// withoutTicket drops a bearer ticket: a browser's form post has none.
func withoutTicket(h http.Header) http.Header {
	out := h.Clone()
	if out != nil {
		out.Del("Authorization")
	}
	return out
}

// local maps a URL below the public URL to where its request goes.
func (e *env) localURL(u *url.URL) string {
	GinkgoHelper()
	s := u.String()
	Expect(s).To(HavePrefix(e.url))
	return e.local + strings.TrimPrefix(s, e.url)
}

// authorize lets the fake approve and returns the callback URL it sent the browser to.
func authorize(authURL *url.URL) *url.URL {
	GinkgoHelper()
	r := send(http.MethodGet, authURL.String(), nil)
	Expect(r.StatusCode).To(Equal(http.StatusFound), r.body)
	loc, err := url.Parse(r.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	return loc
}

// connect runs a whole flow for user and returns the callback's response.
func (e *env) connect(user, query string) response {
	GinkgoHelper()
	authURL, cookie := e.startFlow(asUser(user), query)
	return send(http.MethodGet, e.localURL(authorize(authURL)), asUser(user), cookie)
}

func (e *env) tokenSecret(user string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: mcpauth.TokenSecretName(e.name, user)}, sec)
	return sec, err
}

func (e *env) connections(header http.Header) []map[string]any {
	GinkgoHelper()
	r := send(http.MethodGet, e.local+"/connections", header)
	Expect(r.StatusCode).To(Equal(http.StatusOK), r.body)
	var list struct {
		Connections []map[string]any `json:"connections"`
	}
	Expect(json.Unmarshal([]byte(r.body), &list)).To(Succeed())
	return list.Connections
}

func (e *env) connectionOf(header http.Header, name string) map[string]any {
	GinkgoHelper()
	for _, c := range e.connections(header) {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
