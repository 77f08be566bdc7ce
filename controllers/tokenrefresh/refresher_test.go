package tokenrefresh_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/tokenrefresh"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

// cycle is how far the clock moves to make a fresh 1 h token due (at 49-50 min).
const cycle = 55 * time.Minute

var _ = Describe("Token refresher", Ordered, func() {
	BeforeAll(func() {
		env, restCfg, err := envtestutil.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		restCfg.QPS, restCfg.Burst = 2000, 4000
		refresherAPI.cfg = restCfg
		refresherAPI.c, err = client.New(restCfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
	})

	It("persists each rotation and uses it next time: 100 cycles leave the grant alive", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		first := rg.connect("alice")
		prev := first.RefreshToken
		for i := 1; i <= 100; i++ {
			rg.step(cycle)
			Eventually(func() string { return rg.refreshToken("alice") }).WithPolling(5 * time.Millisecond).ShouldNot(Equal(prev))
			prev = rg.refreshToken("alice")
			Expect(rg.fake.Counters().TokenRefresh).To(Equal(i), "cycle %d", i)
		}
		Expect(rg.fake.GrantAlive(prev)).To(BeTrue())
		Expect(rg.fake.GrantAlive(first.AccessToken)).To(BeTrue())
		c := rg.fake.Counters()
		Expect(c.ReuseDetected).To(BeZero())
		Expect(c.TokenErrors).To(BeZero())
		// A chat pod gets the 100th rotation. GetToken reads real time, which
		// the fake clock only ever runs ahead of: the token, issued at the
		// fake now for an hour, is valid.
		tok, err := mcpauth.GetToken(ctx, refresherAPI.c, rg.ns, "srv", "alice")
		Expect(err).NotTo(HaveOccurred())
		Expect(tok.AccessToken).NotTo(Equal(first.AccessToken))
		Expect(tok.AccessToken).To(Equal(string(rg.secret("alice").Data[mcpauth.KeyAccessToken])))
		Expect(tok.Expiry).To(BeTemporally("==", rg.clock.Now().Add(time.Hour)), "the expiry is on the refresher's clock")
	})

	It("reads the client Secret from the API server when it changed, not at every refresh", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		clientSecret := types.NamespacedName{Namespace: rg.ns, Name: rg.server.Status.OAuth2.ClientSecretName}
		var liveReads atomic.Int32
		rg.tweak = func(r *tokenrefresh.Refresher) {
			live := r.APIReader
			r.APIReader = readerFunc(func(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if key == clientSecret {
					liveReads.Add(1)
				}
				return live.Get(ctx, key, obj, opts...)
			})
		}
		rg.start()
		const users, workers = 40, 8 // the refresher's default workers
		for i := range users {
			rg.connect(fmt.Sprintf("user-%d", i))
		}
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(users))
		Expect(int(liveReads.Load())).To(BeNumerically("<=", 2),
			"once (twice if the MCPServer's status changed meanwhile), not at each of the %d refreshes of %d workers", users, workers)

		// The client Secret changes: the next refresh reads it again.
		before := liveReads.Load()
		s := &corev1.Secret{}
		Expect(refresherAPI.c.Get(ctx, clientSecret, s)).To(Succeed())
		s.Annotations = map[string]string{"example.com/rotated": "yes"}
		Expect(refresherAPI.c.Update(ctx, s)).To(Succeed())
		// Once the manager's metadata cache has the new version, a refresh
		// reads the Secret again.
		Eventually(func() int32 {
			rg.step(cycle)
			return liveReads.Load()
		}).Should(BeNumerically(">", before), "a changed client Secret is read again")
		Expect(rg.fake.Counters().TokenErrors).To(BeZero())
	})

	It("keeps the refresh token a Google-like provider does not resend on refresh, and refreshes with it again", func() {
		rg := newRig(fakeauth.Options{DisableRefreshRotation: true, RefreshTokenAtFirstConsentOnly: true}, false, nil)
		rg.start()
		first := rg.connect("alice")
		for i := 1; i <= 3; i++ {
			rg.step(cycle)
			Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(i))
			Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt] }).
				Should(Equal(rg.clock.Now().UTC().Format(time.RFC3339)))
			Expect(rg.refreshToken("alice")).To(Equal(first.RefreshToken), "refresh %d: the answer carried no refresh token", i)
		}
		Expect(rg.fake.Counters().TokenErrors).To(BeZero())
	})

	It("refreshes at a token endpoint behind a private CA with the bundle the manager copied into the client Secret", func() {
		ca := fixture.NewCA()
		rg := newRig(fakeauth.Options{TLS: ca.ServerTLS()}, false, nil)
		clientSecret := &corev1.Secret{}
		key := client.ObjectKey{Namespace: rg.ns, Name: mcpv1.ClientSecretName("srv")}
		Expect(refresherAPI.c.Get(ctx, key, clientSecret)).To(Succeed())
		// Without it, the fake's certificate is not trusted and no refresh reaches it.
		clientSecret.Data[mcpv1.ClientKeyCABundle] = ca.PEM()
		Expect(refresherAPI.c.Update(ctx, clientSecret)).To(Succeed())
		rg.start()
		first := rg.connect("alice")
		rg.step(cycle)
		Eventually(func() string { return rg.refreshToken("alice") }).ShouldNot(Equal(first.RefreshToken))
		Expect(rg.fake.Counters().TokenRefresh).To(Equal(1))
		Expect(rg.fake.Counters().TokenErrors).To(BeZero())
	})

	It("sends the resource on refresh, and not when spec opts out", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		rg.connect("alice")
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(1))
		Eventually(rg.forms.all).Should(HaveLen(1))
		Expect(rg.forms.all()[0]["resource"]).To(Equal([]string{rg.fake.MCPURL()}))
		Expect(rg.forms.all()[0].Has("scope")).To(BeFalse(), "an omitted scope is the granted one (RFC 6749 §6)")
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationRefreshError] }).Should(BeEmpty())
		rg.stop() // one refresher per API server, as leader election ensures in production

		optOut := newRig(fakeauth.Options{ResourceOptional: true}, true, nil)
		optOut.start()
		optOut.connect("bob")
		optOut.step(cycle)
		Eventually(optOut.forms.all).Should(HaveLen(1))
		Expect(optOut.forms.all()[0].Has("resource")).To(BeFalse())
		Eventually(func() string { return optOut.secret("bob").Annotations[tokensecret.AnnotationIssuedAt] }).
			Should(Equal(optOut.clock.Now().UTC().Format(time.RFC3339)))
	})

	DescribeTable("sends no resource on refresh when resourceIndicator.send says so",
		func(send mcpv1.ResourceIndicatorSend, provider fakeauth.Options) {
			rg := newRig(provider, false, nil)
			rg.reconfigure(func(o *mcpv1.OAuth2Auth, _ *mcpv1.OAuth2Status) {
				o.ResourceIndicator = &mcpv1.ResourceIndicator{Send: send}
			})
			rg.start()
			rg.connect("alice")
			rg.step(cycle)
			Eventually(rg.forms.all).Should(HaveLen(1))
			Expect(rg.forms.all()[0].Has("resource")).To(BeFalse())
			Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt] }).
				Should(Equal(rg.clock.Now().UTC().Format(time.RFC3339)))
			Expect(rg.fake.Counters().TokenErrors).To(BeZero())
		},
		Entry("ExceptRefresh", mcpv1.ResourceIndicatorExceptRefresh, fakeauth.Options{ResourceOptional: true}),
		Entry("Never", mcpv1.ResourceIndicatorNever, fakeauth.Options{ResourceOptional: true}),
		Entry("Never, at an Entra-like provider that refuses resource", mcpv1.ResourceIndicatorNever, fakeauth.Options{RejectResourceOnAuthorize: true}),
	)

	It("keeps additionalAuthorizationParameters off refresh requests, against a provider requiring an audience", func() {
		rg := newRig(fakeauth.Options{RequireAudience: "https://api.example.com"}, false, nil)
		rg.reconfigure(func(o *mcpv1.OAuth2Auth, _ *mcpv1.OAuth2Status) {
			o.AdditionalAuthorizationParameters = map[string]mcpv1.AuthorizationParameterValue{"audience": "https://api.example.com", "prompt": "consent"}
		})
		rg.start()
		rg.connect("alice")
		rg.step(cycle)
		Eventually(rg.forms.all).Should(HaveLen(1))
		Expect(rg.forms.all()[0]).NotTo(HaveKey("audience"))
		Expect(rg.forms.all()[0]).NotTo(HaveKey("prompt"))
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt] }).
			Should(Equal(rg.clock.Now().UTC().Format(time.RFC3339)))
	})

	It("sends on refresh the resource recorded at connect: resourceIndicator.value, and not a value configured since", func() {
		const appID, later = "api://00000000-0000-0000-0000-00000000a11a", "api://00000000-0000-0000-0000-0000000b0b0b"
		rg := newRig(fakeauth.Options{ResourceAliases: []string{appID, later}}, false, nil)
		rg.reconfigure(func(o *mcpv1.OAuth2Auth, _ *mcpv1.OAuth2Status) {
			o.ResourceIndicator = &mcpv1.ResourceIndicator{Value: appID}
		})
		// Connected while value was appID: the callback sent and recorded it.
		for _, user := range []string{"alice", "bob"} {
			tok, err := rg.fake.IssueTokensFor(rg.clientID, appID)
			Expect(err).NotTo(HaveOccurred())
			g := fixture.FakeGrant(rg.fake, user, tok, rg.clock.Now())
			g.Resource = appID
			Expect(refresherAPI.c.Create(ctx, fixture.TokenSecret(rg.server, g))).To(Succeed())
		}
		rg.start()
		rg.step(cycle)
		Eventually(rg.forms.all).Should(HaveLen(2))
		for _, f := range rg.forms.all() {
			Expect(f["resource"]).To(Equal([]string{appID}), "not the discovered %s", rg.fake.MCPURL())
		}
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt] }).
			Should(Equal(rg.clock.Now().UTC().Format(time.RFC3339)), "the fake bound the grant to appID and accepted it")
		rg.stop()

		// The value changes: refreshes keep naming what each grant was made
		// for (RFC 8707 §2.2); the new value applies at the next connect.
		rg.reconfigure(func(o *mcpv1.OAuth2Auth, _ *mcpv1.OAuth2Status) {
			o.ResourceIndicator = &mcpv1.ResourceIndicator{Value: later}
		})
		rg.start()
		rg.step(cycle)
		Eventually(rg.forms.all).Should(HaveLen(4))
		for _, f := range rg.forms.all()[2:] {
			Expect(f["resource"]).To(Equal([]string{appID}))
		}
		Eventually(func() string { return rg.secret("bob").Annotations[tokensecret.AnnotationIssuedAt] }).
			Should(Equal(rg.clock.Now().UTC().Format(time.RFC3339)))
		Expect(rg.secret("bob").Annotations[tokensecret.AnnotationRefreshError]).To(BeEmpty())
	})

	It("refreshes what each user granted: step-up scopes are kept, partial consent is not exceeded", func() {
		rg := newRig(fakeauth.Options{}, false, nil) // the server is configured for mcp:read mcp:tools
		rg.start()
		users := []struct {
			name  string
			first fakeauth.Tokens
			want  string
		}{
			{"alice", rg.connectWith("alice", "mcp:read", "mcp:tools", "mcp:admin"), "mcp:read mcp:tools mcp:admin"}, // stepped up
			{"bob", rg.connectWith("bob", "mcp:read"), "mcp:read"},                                                   // consented to part only
		}
		rg.step(cycle)
		for _, u := range users {
			Eventually(func() string { return rg.refreshToken(u.name) }).ShouldNot(Equal(u.first.RefreshToken), u.name)
			s := rg.secret(u.name)
			Expect(s.Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshError), u.name)
			scope, live := rg.fake.AccessTokenScope(string(s.Data[mcpauth.KeyAccessToken]))
			Expect(live).To(BeTrue(), u.name)
			Expect(scope).To(Equal(u.want), "the scope of %s's refreshed access token", u.name)
			Expect(string(s.Data[tokensecret.KeyScope])).To(Equal(u.want), u.name)
		}
		Expect(rg.fake.Counters().TokenErrors).To(BeZero())
		for _, f := range rg.forms.all() {
			Expect(f.Has("scope")).To(BeFalse())
		}
	})

	It("redeems once when a write conflict hits between refresh and persist", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		var once sync.Once
		rg.tweak = func(r *tokenrefresh.Refresher) {
			r.Client = interceptor.NewClient(directClient(), interceptor.Funcs{
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					once.Do(func() { // someone else writes the Secret first
						bumped := &corev1.Secret{}
						Expect(c.Get(ctx, client.ObjectKeyFromObject(obj), bumped)).To(Succeed())
						bumped.Annotations["example.com/touched"] = "yes"
						Expect(c.Update(ctx, bumped)).To(Succeed())
					})
					return c.Update(ctx, obj, opts...)
				},
			})
		}
		rg.start()
		first := rg.connect("alice")
		rg.step(cycle)
		Eventually(func() string { return rg.refreshToken("alice") }).ShouldNot(Equal(first.RefreshToken))
		s := rg.secret("alice")
		Expect(s.Annotations).To(HaveKeyWithValue("example.com/touched", "yes"))
		Expect(rg.fake.Counters().TokenRefresh).To(Equal(1))
		Expect(rg.fake.GrantAlive(rg.refreshToken("alice"))).To(BeTrue())

		// The stored rotation is the live one: the next cycle works.
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(2))
		Consistently(func() int { return rg.fake.Counters().ReuseDetected }, "300ms").Should(BeZero())
		Expect(rg.fake.GrantAlive(first.AccessToken)).To(BeTrue())
	})

	It("keeps the new grant when the user reconnects during a refresh", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		var once sync.Once
		// The reconnected Secret's grant ID, sent once the callback server's
		// write is done.
		reconnected := make(chan string, 1)
		var reconnect fakeauth.Tokens
		rg.tweak = func(r *tokenrefresh.Refresher) {
			r.Client = interceptor.NewClient(directClient(), interceptor.Funcs{
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					once.Do(func() { // the callback server stores a new grant first
						var err error
						reconnect, err = rg.fake.IssueTokens(rg.clientID)
						Expect(err).NotTo(HaveOccurred())
						current := &corev1.Secret{}
						Expect(c.Get(ctx, client.ObjectKeyFromObject(obj), current)).To(Succeed())
						next := rg.tokenSecret("alice", reconnect)
						next.ResourceVersion = current.ResourceVersion
						Expect(c.Update(ctx, next)).To(Succeed())
						reconnected <- next.Annotations[tokensecret.AnnotationGrantID]
					})
					return c.Update(ctx, obj, opts...)
				},
			})
		}
		rg.start()
		rg.connect("alice")
		connectGrant := rg.secret("alice").Annotations[tokensecret.AnnotationGrantID]
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(1))
		var grantID string
		Eventually(reconnected).Should(Receive(&grantID))
		Expect(grantID).NotTo(Equal(connectGrant), "a reconnect is a new grant")
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationGrantID] }).Should(Equal(grantID))
		Consistently(func() string { return rg.refreshToken("alice") }, "300ms").Should(Equal(reconnect.RefreshToken))
		Expect(string(rg.secret("alice").Data[mcpauth.KeyAccessToken])).To(Equal(reconnect.AccessToken))
		Expect(rg.fake.GrantAlive(reconnect.RefreshToken)).To(BeTrue())
		Expect(rg.fake.Counters().TokenRefresh).To(Equal(1))

		rg.step(cycle) // the reconnected grant is refreshed normally
		Eventually(func() string { return rg.refreshToken("alice") }).ShouldNot(Equal(reconnect.RefreshToken))
		Expect(rg.fake.Counters().ReuseDetected).To(BeZero())
	})

	It("marks a dead grant ReauthorizationRequired, removes the tokens and stops", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		tok := rg.connect("alice")
		rg.connect("bob")
		Eventually(rg.connectedUsers).Should(Equal(int32(2)))
		rg.fake.RevokeGrant(tok.RefreshToken)
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }).
			Should(Equal(string(mcpauth.StateReauthorizationRequired)))
		s := rg.secret("alice")
		Expect(s.Data).NotTo(HaveKey(mcpauth.KeyAccessToken))
		Expect(s.Data).NotTo(HaveKey(tokensecret.KeyRefreshToken))
		Expect(s.Annotations).To(HaveKeyWithValue(tokensecret.AnnotationRefreshError, "invalid_grant"))
		_, err := mcpauth.GetToken(ctx, refresherAPI.c, rg.ns, "srv", "alice")
		Expect(errors.Is(err, mcpauth.ErrReauthorizationRequired)).To(BeTrue(), "%v", err)
		Eventually(rg.connectedUsers).Should(Equal(int32(1)))
		Eventually(func() []string { return rg.eventReasons() }).Should(ContainElement(mcpv1.EventReasonReauthorizationRequired))
		for _, e := range rg.events() {
			Expect(e.Note).NotTo(ContainSubstring(tok.RefreshToken))
			Expect(e.Note).NotTo(ContainSubstring("alice"))
		}

		// No retry: later cycles refresh bob only.
		before := rg.fake.Counters().TokenRefresh
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(BeNumerically(">", before))
		rg.step(cycle)
		Consistently(func() int {
			spent := 0
			for _, f := range rg.forms.all() {
				if f.Get("refresh_token") == tok.RefreshToken {
					spent++
				}
			}
			return spent
		}, "300ms").Should(Equal(1))
	})

	It("marks a grant whose scopes the server no longer issues (invalid_scope) ReauthorizationRequired, without retrying", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		tok := rg.connect("alice")
		rg.fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
			fakeauth.EndpointToken: {Status: 400, Code: "invalid_scope"}}})
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }).
			Should(Equal(string(mcpauth.StateReauthorizationRequired)))
		s := rg.secret("alice")
		Expect(s.Annotations).To(HaveKeyWithValue(tokensecret.AnnotationRefreshError, "invalid_scope"))
		Expect(s.Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshFailures))
		Expect(s.Data).NotTo(HaveKey(tokensecret.KeyRefreshToken))
		Expect(s.Data).NotTo(HaveKey(mcpauth.KeyAccessToken))
		Eventually(func() []string { return rg.eventReasons() }).Should(ContainElement(mcpv1.EventReasonReauthorizationRequired))
		for _, e := range rg.events() {
			Expect(e.Note).NotTo(ContainSubstring(tok.RefreshToken))
		}
		// No backoff retry: past what would be the first few retries, one request only.
		rg.step(2 * time.Minute)
		Consistently(func() int { return rg.fake.Counters().TokenRefresh }, "300ms").Should(Equal(1))
	})

	It("sends a refresh token only to the token endpoint it came from: a changed static tokenURL gets none", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		ep := rg.fake.Endpoints()
		// A pre-registered client with its endpoints in spec, whose discovery
		// has just failed: status names no issuer (the Secret does).
		rg.reconfigure(func(o *mcpv1.OAuth2Auth, st *mcpv1.OAuth2Status) {
			o.ClientID, o.AuthorizationURL, o.TokenURL = rg.clientID, ep.Authorization, ep.Token
			st.Issuer = ""
		})
		first := rg.connect("alice")
		rg.start()
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(1))
		Eventually(func() string { return rg.refreshToken("alice") }).Should(And(Not(BeEmpty()), Not(Equal(first.RefreshToken))))
		Expect(rg.secret("alice").Annotations).To(HaveKeyWithValue(mcpauth.AnnotationState, string(mcpauth.StateActive)))
		Expect(string(rg.secret("alice").Data[tokensecret.KeyTokenEndpoint])).To(Equal(ep.Token))
		rg.stop()

		// Another host, on loopback, notes every request that reaches it.
		var reached atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			reached.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		}))
		DeferCleanup(other.Close)
		// tokenURL now names it; the authorization endpoint still matches the
		// discovered server's, so the reconciler keeps that issuer in status.
		rg.reconfigure(func(o *mcpv1.OAuth2Auth, st *mcpv1.OAuth2Status) {
			o.TokenURL, st.TokenEndpoint, st.Issuer = other.URL+"/token", other.URL+"/token", ep.Issuer
		})
		held := rg.refreshToken("alice")
		rg.start()
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }).
			Should(Equal(string(mcpauth.StateReauthorizationRequired)))
		Expect(reached.Load()).To(BeZero(), "the new host received a token request")
		s := rg.secret("alice")
		Expect(s.Annotations).To(HaveKeyWithValue(tokensecret.AnnotationRefreshError, "TokenEndpointChanged"))
		Expect(s.Data).NotTo(HaveKey(tokensecret.KeyRefreshToken))
		Expect(rg.fake.GrantAlive(held)).To(BeTrue())
		Expect(rg.fake.Counters().TokenRefresh).To(Equal(1))
		Eventually(func() []string {
			var notes []string
			for _, e := range rg.events() {
				if e.Reason == mcpv1.EventReasonReauthorizationRequired {
					notes = append(notes, e.Note)
				}
			}
			return notes
		}).Should(ContainElement(And(ContainSubstring(ep.Token), ContainSubstring(other.URL+"/token"), Not(ContainSubstring(held)))))
		Consistently(reached.Load, "300ms").Should(BeZero())
	})

	It("signals invalid_client on the MCPServer and marks the token ClientInvalid", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		rg.connect("alice")
		rg.fake.RevokeClient(rg.clientID)
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }).
			Should(Equal(string(mcpauth.StateClientInvalid)))
		server := &mcpv1.MCPServer{}
		Expect(refresherAPI.c.Get(ctx, client.ObjectKeyFromObject(rg.server), server)).To(Succeed())
		Expect(server.Annotations).To(HaveKeyWithValue(mcpv1.AnnotationClientInvalid, rg.clientID))
		_, err := mcpauth.GetToken(ctx, refresherAPI.c, rg.ns, "srv", "alice")
		Expect(errors.Is(err, mcpauth.ErrReauthorizationRequired)).To(BeTrue(), "%v", err)
	})

	It("backs off on 5xx, keeps serving the token, and recovers", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		first := rg.connect("alice")
		rg.fake.SetFault(fakeauth.Failing(503, fakeauth.EndpointToken))
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationRefreshFailures] }).Should(Equal("1"))
		s := rg.secret("alice")
		Expect(s.Annotations).To(HaveKeyWithValue(tokensecret.AnnotationRefreshError, "server_error"))
		Expect(s.Annotations).To(HaveKeyWithValue(mcpauth.AnnotationState, string(mcpauth.StateActive)))
		Expect(string(s.Data[mcpauth.KeyAccessToken])).To(Equal(first.AccessToken))

		rg.step(11 * time.Second) // first backoff is 10 s, then 20 s
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationRefreshFailures] }).Should(Equal("2"))
		Expect(rg.fake.Counters().TokenRefresh).To(Equal(2))

		rg.fake.SetFault(fakeauth.Fault{})
		rg.step(21 * time.Second)
		Eventually(func() string { return rg.refreshToken("alice") }).ShouldNot(Equal(first.RefreshToken))
		s = rg.secret("alice")
		Expect(s.Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshFailures))
		Expect(s.Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshError))
		Expect(rg.fake.GrantAlive(first.AccessToken)).To(BeTrue())
		Eventually(func() []string { return rg.eventReasons() }).Should(ContainElements(
			mcpv1.EventReasonRefreshFailed, mcpv1.EventReasonTokenRefreshed))
	})

	It("treats a token endpoint timeout as transient", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.tweak = func(r *tokenrefresh.Refresher) { r.OpTimeout = 300 * time.Millisecond }
		rg.start()
		first := rg.connect("alice")
		rg.fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
			fakeauth.EndpointToken: {Delay: 10 * time.Second}}})
		rg.step(cycle)
		Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationRefreshError] }).Should(Equal("Timeout"))
		s := rg.secret("alice")
		Expect(s.Annotations).To(HaveKeyWithValue(mcpauth.AnnotationState, string(mcpauth.StateActive)))
		Expect(string(s.Data[tokensecret.KeyRefreshToken])).To(Equal(first.RefreshToken))
		Expect(rg.fake.GrantAlive(first.RefreshToken)).To(BeTrue())
	})

	It("marks a token without a refresh token Expired at its expiry", func() {
		rg := newRig(fakeauth.Options{}, false, func(c *fakeauth.Client) { c.GrantTypes = []string{"authorization_code"} })
		rg.start()
		tok := rg.connect("alice")
		Expect(tok.RefreshToken).To(BeEmpty())
		rg.step(cycle)
		Consistently(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }, "200ms").
			Should(Equal(string(mcpauth.StateActive)))
		rg.step(6 * time.Minute)
		Eventually(func() string { return rg.secret("alice").Annotations[mcpauth.AnnotationState] }).
			Should(Equal(string(mcpauth.StateExpired)))
		Expect(rg.fake.Counters().TokenRefresh).To(BeZero())
	})

	It("redeems no refresh token of a Secret its MCPServer does not control, and does not count it", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		untrustedBefore := gauge("mcp_operator_untrusted_token_secrets")
		rg.start()
		rg.connect("alice") // the server's own
		// Look-alikes: a token Secret's name, labels, type and data, with a
		// refresh token the fake would honour, but not controlled by srv.
		lookAlikes := map[string][]metav1.OwnerReference{
			"mallory": nil,
			"eve": {{APIVersion: mcpv1.GroupVersion.String(), Kind: "MCPServer", Name: "srv",
				UID: "uid-of-an-earlier-srv", Controller: ptr.To(true)}},
			"trudy": {{APIVersion: mcpv1.GroupVersion.String(), Kind: "MCPServer", Name: "srv",
				UID: rg.server.UID}}, // an owner, but not the controller
		}
		planted := map[string]string{} // user -> resourceVersion
		var plantedRTs []string
		for user, refs := range lookAlikes {
			tok, err := rg.fake.IssueTokens(rg.clientID)
			Expect(err).NotTo(HaveOccurred())
			sec := rg.tokenSecret(user, tok)
			sec.OwnerReferences = refs
			Expect(refresherAPI.c.Create(ctx, sec)).To(Succeed())
			planted[user] = sec.ResourceVersion
			plantedRTs = append(plantedRTs, tok.RefreshToken)
		}

		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(1), "alice's token is refreshed")
		Consistently(func() int { return rg.fake.Counters().TokenRefresh }, "500ms").Should(Equal(1), "a look-alike's token was refreshed")
		for _, form := range rg.forms.all() {
			Expect(plantedRTs).NotTo(ContainElement(form.Get("refresh_token")))
		}
		for user, rv := range planted {
			Expect(rg.secret(user).ResourceVersion).To(Equal(rv), "the refresher wrote to %s's look-alike", user)
		}
		Eventually(func() int32 {
			srv := &mcpv1.MCPServer{}
			Expect(refresherAPI.c.Get(ctx, client.ObjectKeyFromObject(rg.server), srv)).To(Succeed())
			return srv.Status.ConnectedUsers
		}).Should(BeEquivalentTo(1), "look-alikes are not connected users")
		Consistently(func() int32 {
			srv := &mcpv1.MCPServer{}
			Expect(refresherAPI.c.Get(ctx, client.ObjectKeyFromObject(rg.server), srv)).To(Succeed())
			return srv.Status.ConnectedUsers
		}, "300ms").Should(BeEquivalentTo(1))
		Expect(gauge("mcp_operator_untrusted_token_secrets")).To(Equal(untrustedBefore + 3))
	})

	It("caches token Secrets' metadata only: their data, annotations included, is never in the cache", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		rg.connect("alice")
		key := client.ObjectKey{Namespace: rg.ns, Name: mcpauth.TokenSecretName("srv", "alice")}
		meta := &metav1.PartialObjectMetadata{}
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		Eventually(func() error { return rg.tokens.Get(ctx, key, meta) }).Should(Succeed())
		Expect(meta.Annotations).To(BeEmpty(), "the raw user ID and the refresher's notes stay out of the cache")
		Expect(meta.Labels).To(HaveKeyWithValue(mcpv1.LabelServer, "srv"))
		Expect(meta.OwnerReferences).To(ConsistOf(HaveField("UID", rg.server.UID)))

		var notCached *cache.ErrResourceNotCached
		err := rg.tokens.Get(ctx, key, &corev1.Secret{})
		Expect(errors.As(err, &notCached)).To(BeTrue(), "a full Secret read through the token cache: %v", err)
		err = rg.tokens.List(ctx, &corev1.SecretList{}, client.InNamespace(rg.ns))
		Expect(errors.As(err, &notCached)).To(BeTrue(), "a full Secret list through the token cache: %v", err)

		// And the refresher still refreshes, reading the data live.
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(1))
	})

	It("loses no refresh across a manager restart mid-schedule", func() {
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		for i := range 10 {
			rg.connect(fmt.Sprintf("early-%d", i)) // 1 h tokens
		}
		rg.step(cycle)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(10))
		for i := range 10 {
			rg.connect(fmt.Sprintf("late-%d", i)) // issued at +55 min: due at about +1 h 45 min
		}
		rg.stop() // the first manager's in-memory schedule is gone

		rg.start() // a new manager rebuilds the schedule from the Secrets
		rg.step(52 * time.Minute)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }).Should(Equal(30))
		Consistently(func() int { return rg.fake.Counters().TokenRefresh }, "300ms").Should(Equal(30))
		Expect(rg.fake.Counters().ReuseDetected).To(BeZero())
		for _, u := range []string{"early-3", "late-7"} {
			Expect(rg.secret(u).Annotations[tokensecret.AnnotationIssuedAt]).To(Equal(rg.clock.Now().UTC().Format(time.RFC3339)))
			Expect(rg.fake.GrantAlive(rg.refreshToken(u))).To(BeTrue())
		}
	})

	It("refreshes a 1-second token at most once per 30 s, and says so on its Secret", func() {
		rg := newRig(fakeauth.Options{AccessTokenTTL: time.Second}, false, nil)
		rg.start()
		rg.connect("alice")
		floored := func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationRefreshFloored] }
		const note = "access token lifetime 1s is too short for the refresh schedule: refreshed no sooner than 30s after issue"
		Eventually(floored).Should(Equal(note))

		// Five minutes, a second at a time: time enough, at each step, for
		// a refresher that honours expires_in: 1 to refresh again.
		start := rg.clock.Now()
		for range 300 {
			rg.step(time.Second)
			issued, err := time.Parse(time.RFC3339, rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt])
			Expect(err).NotTo(HaveOccurred())
			if rg.clock.Now().Sub(issued) > 33*time.Second { // past the floor and its jitter: due for sure
				Eventually(func() string { return rg.secret("alice").Annotations[tokensecret.AnnotationIssuedAt] }).
					ShouldNot(Equal(issued.UTC().Format(time.RFC3339)))
			} else {
				time.Sleep(10 * time.Millisecond) // a refresh that is due would be sent now
			}
		}
		sent := rg.forms.times()
		Expect(len(sent)).To(BeNumerically("<=", 10), "%d refreshes in 5 minutes", len(sent))
		Expect(len(sent)).To(BeNumerically(">=", 9), "the token is still refreshed, once per 30-33 s")
		Expect(sent[0].Sub(start)).To(BeNumerically(">=", 30*time.Second))
		for i := 1; i < len(sent); i++ {
			Expect(sent[i].Sub(sent[i-1])).To(BeNumerically(">=", 30*time.Second), "refresh %d", i+1)
		}
		Expect(rg.fake.Counters().ReuseDetected).To(BeZero())
		Expect(floored()).To(Equal(note), "the note stays while the tokens stay short")

		// A token that lives long enough again loses the note.
		s := rg.secret("alice")
		issued, err := time.Parse(time.RFC3339, s.Annotations[tokensecret.AnnotationIssuedAt])
		Expect(err).NotTo(HaveOccurred())
		s.Data[mcpauth.KeyExpiry] = []byte(issued.Add(time.Hour).UTC().Format(time.RFC3339))
		Expect(refresherAPI.c.Update(ctx, s)).To(Succeed())
		Eventually(func() map[string]string { return rg.secret("alice").Annotations }).ShouldNot(HaveKey(tokensecret.AnnotationRefreshFloored))
	})

	It("keeps a 60-second token (the demo's) on its normal schedule, without a floor note", func() {
		rg := newRig(fakeauth.Options{AccessTokenTTL: time.Minute}, false, nil)
		rg.start()
		first := rg.connect("alice")
		rg.step(46 * time.Second) // due at 46.8-48 s
		Consistently(func() int { return rg.fake.Counters().TokenRefresh }, "300ms").Should(BeZero())
		rg.step(2 * time.Second)
		Eventually(func() string { return rg.refreshToken("alice") }).ShouldNot(Equal(first.RefreshToken))
		Expect(rg.secret("alice").Annotations).NotTo(HaveKey(tokensecret.AnnotationRefreshFloored))
	})

	It("refreshes 1,000 tokens ahead of expiry, each exactly once", func() {
		const n = 1000
		rg := newRig(fakeauth.Options{}, false, nil)
		rg.start()
		users := make(chan int)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for i := range users {
					rg.connect(fmt.Sprintf("user-%d", i))
				}
			}()
		}
		for i := range n {
			users <- i
		}
		close(users)
		wg.Wait()
		Eventually(rg.connectedUsers).Should(Equal(int32(n)))

		started := time.Now()
		rg.step(cycle) // every token is due, none expired (expiry at +60 min)
		Eventually(func() int { return rg.fake.Counters().TokenRefresh }, "60s", "20ms").Should(Equal(n))
		list := &corev1.SecretList{}
		Eventually(func() int {
			Expect(refresherAPI.c.List(ctx, list, client.InNamespace(rg.ns), client.MatchingLabels{mcpv1.LabelServer: "srv"}, client.HasLabels{mcpv1.LabelUserHash})).To(Succeed())
			fresh := 0
			for _, s := range list.Items {
				if s.Annotations[tokensecret.AnnotationIssuedAt] == rg.clock.Now().UTC().Format(time.RFC3339) {
					fresh++
				}
			}
			return fresh
		}, "30s", "50ms").Should(Equal(n))
		elapsed := time.Since(started)
		AddReportEntry("refresh throughput", fmt.Sprintf("%d tokens refreshed and persisted in %v: %.0f refreshes/s",
			n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds()))
		GinkgoWriter.Printf("1,000-token refresh: %v, %.0f/s\n", elapsed, float64(n)/elapsed.Seconds())

		Consistently(func() int { return rg.fake.Counters().TokenRefresh }, "300ms").Should(Equal(n))
		c := rg.fake.Counters()
		Expect(c.ReuseDetected).To(BeZero())
		Expect(c.TokenErrors).To(BeZero())
		for _, s := range list.Items {
			Expect(rg.fake.GrantAlive(string(s.Data[tokensecret.KeyRefreshToken]))).To(BeTrue())
		}
	})
})

func (rg *rig) connectedUsers() int32 {
	s := &mcpv1.MCPServer{}
	Expect(refresherAPI.c.Get(ctx, client.ObjectKeyFromObject(rg.server), s)).To(Succeed())
	return s.Status.ConnectedUsers
}

func (rg *rig) events() []eventsv1.Event {
	list := &eventsv1.EventList{}
	Expect(refresherAPI.c.List(ctx, list, client.InNamespace(rg.ns))).To(Succeed())
	return list.Items
}

func (rg *rig) eventReasons() []string {
	var out []string
	for _, e := range rg.events() {
		out = append(out, e.Reason)
	}
	return out
}

// directClient is an uncached client to wrap with an interceptor.
func directClient() client.WithWatch {
	c, err := client.NewWithWatch(refresherAPI.cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// readerFunc is a client.Reader whose Get is f; List is not used.
type readerFunc func(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error

func (f readerFunc) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return f(ctx, key, obj, opts...)
}

func (f readerFunc) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("readerFunc: List is not supported")
}
