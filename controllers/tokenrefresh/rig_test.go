package tokenrefresh_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/controllers/tokenrefresh"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

// refresherAPI is the refresher suite's own API server: no MCPServer
// controller runs against it, so the tests own the MCPServer status the
// refresher reads, and no real-clock refresher shares its Secrets.
var refresherAPI struct {
	cfg *rest.Config
	c   client.Client
}

// rig is one test's world: a fake authorization server on a fake clock, an
// MCPServer configured for it, and a refresher manager that can be
// restarted.
type rig struct {
	ns       string
	server   *mcpv1.MCPServer
	fake     *fakeauth.Server
	clock    *clocktesting.FakeClock
	clientID string
	forms    *formRecorder

	// tweak adjusts the refresher before it is set up (e.g. an interceptor).
	tweak func(r *tokenrefresh.Refresher)
	stop  func()
	// tokens is the running manager's token Secret cache.
	tokens cache.Cache
}

func newRig(opts fakeauth.Options, omitResource bool, clientTweak func(*fakeauth.Client)) *rig {
	rg := &rig{clock: clocktesting.NewFakeClock(time.Now().Truncate(time.Second))}
	rg.forms = &formRecorder{now: rg.clock.Now}
	opts.Clock = rg.clock.Now
	rg.fake = fakeauth.New(opts)
	DeferCleanup(rg.fake.Close)
	cl := fakeauth.Client{}
	if clientTweak != nil {
		clientTweak(&cl)
	}
	registered := rg.fake.AddClient(cl)
	rg.clientID = registered.ID

	c := refresherAPI.c
	ns, err := envtestutil.NewNamespace(ctx, c, "refresh")
	Expect(err).NotTo(HaveOccurred())
	rg.ns = ns
	server := fixture.MCPServer(rg.ns, "srv", rg.fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{OmitResourceOnRefresh: omitResource}))
	_, err = fixture.CreateOAuth2Server(ctx, c, server, fixture.FakeOAuth2(rg.fake, registered))
	Expect(err).NotTo(HaveOccurred())
	rg.server = server
	DeferCleanup(func() {
		if rg.stop != nil {
			rg.stop()
		}
		// Later tests' refreshers must not find this test's tokens.
		Expect(c.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(rg.ns))).To(Succeed())
	})
	return rg
}

// reconfigure changes the MCPServer's spec.auth.oauth2 and status.oauth2 as
// the reconciler would after a spec change. Call it while the refresher is
// stopped, so the next start reads the new configuration.
func (rg *rig) reconfigure(change func(*mcpv1.OAuth2Auth, *mcpv1.OAuth2Status)) {
	c := refresherAPI.c
	srv := &mcpv1.MCPServer{}
	Expect(c.Get(ctx, client.ObjectKeyFromObject(rg.server), srv)).To(Succeed())
	spec, st := srv.Spec.Auth.OAuth2.DeepCopy(), srv.Status.OAuth2.DeepCopy()
	change(spec, st)
	srv.Spec.Auth.OAuth2 = spec
	Expect(c.Update(ctx, srv)).To(Succeed())
	srv.Status.OAuth2 = st
	Expect(c.Status().Update(ctx, srv)).To(Succeed())
}

// start runs a manager with only the refresher, on the rig's clock.
func (rg *rig) start() {
	mgr, err := ctrl.NewManager(refresherAPI.cfg, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Client:     controllers.ClientOptions(),
		Cache:      controllers.CacheOptions(),
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	hc := oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true})
	hc.Transport = rg.forms.wrap(hc.Transport)
	r := &tokenrefresh.Refresher{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		SecretMetadata: mgr.GetCache(),
		Recorder:       mgr.GetEventRecorder("mcp-operator-refresher"),
		HTTPClient:     hc,
		Clock:          rg.clock,
	}
	if rg.tweak != nil {
		rg.tweak(r)
	}
	tokens, err := tokenrefresh.NewTokenCache(mgr, nil)
	Expect(err).NotTo(HaveOccurred())
	rg.tokens = tokens
	Expect(mgr.Add(tokens)).To(Succeed())
	Expect(r.SetupWithManager(mgr, tokens)).To(Succeed())
	Expect((&tokenrefresh.ConnectedUsers{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Debounce: 50 * time.Millisecond, Clock: rg.clock}).SetupWithManager(mgr, tokens)).To(Succeed())
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	rg.stop = func() { cancel(); <-done; rg.stop = nil }
}

// connect writes a token Secret as the callback server does, with fresh
// tokens from the fake, issued now on the rig's clock.
func (rg *rig) connect(user string) fakeauth.Tokens { return rg.connectWith(user) }

// connectWith is connect for a user who granted scopes (default: the
// fake's), e.g. more after a step-up or fewer after partial consent.
func (rg *rig) connectWith(user string, scopes ...string) fakeauth.Tokens {
	tok, err := rg.fake.IssueTokens(rg.clientID, scopes...)
	Expect(err).NotTo(HaveOccurred())
	Expect(refresherAPI.c.Create(ctx, rg.tokenSecret(user, tok))).To(Succeed())
	return tok
}

// tokenSecret is user's token Secret holding tok, issued now on the rig's
// clock, with a new grant ID.
func (rg *rig) tokenSecret(user string, tok fakeauth.Tokens) *corev1.Secret {
	return fixture.TokenSecret(rg.server, fixture.FakeGrant(rg.fake, user, tok, rg.clock.Now()))
}

// secret reads a user's token Secret from the API server.
func (rg *rig) secret(user string) *corev1.Secret {
	s := &corev1.Secret{}
	Expect(refresherAPI.c.Get(ctx, client.ObjectKey{Namespace: rg.ns, Name: mcpauth.TokenSecretName("srv", user)}, s)).To(Succeed())
	return s
}

func (rg *rig) refreshToken(user string) string {
	return string(rg.secret(user).Data[tokensecret.KeyRefreshToken])
}

// formRecorder keeps the form of every refresh_token request sent, and
// when it was sent on the rig's clock.
type formRecorder struct {
	now   func() time.Time
	mu    sync.Mutex
	forms []url.Values
	sent  []time.Time
}

func (f *formRecorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Body != nil {
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" {
				f.mu.Lock()
				f.forms = append(f.forms, form)
				f.sent = append(f.sent, f.now())
				f.mu.Unlock()
			}
		}
		return next.RoundTrip(req)
	})
}

func (f *formRecorder) all() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// times are the rig-clock times the refresh requests were sent at.
func (f *formRecorder) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.sent...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// step moves the rig's fake clock once no refresh is in flight. A reconcile
// that read the clock before the step and asked to be woken after it would
// otherwise be scheduled a whole step late, and the spec would wait for a
// refresh that only the next step brings.
func (rg *rig) step(d time.Duration) {
	GinkgoHelper()
	Eventually(activeRefreshes).WithPolling(time.Millisecond).Should(BeZero())
	rg.clock.Step(d)
}

// activeRefreshes is how many tokenrefresher reconciles run right now,
// from controller-runtime's active-workers gauge.
func activeRefreshes() float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "controller_runtime_active_workers" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "tokenrefresher" {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// gauge is the value of an unlabelled gauge in controller-runtime's registry.
func gauge(name string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}
