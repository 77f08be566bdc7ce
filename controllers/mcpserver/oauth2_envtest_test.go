package mcpserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/logscan"
)

var _ = Describe("OAuth2 auto-configuration", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("discovers, registers and reaches Ready with the client Secret and status filled", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "auto", fake.MCPURL())

		waitReady(server)
		st := server.Status.OAuth2
		Expect(authCondition(server).Reason).To(Equal(mcpv1.ReasonRegistered))
		Expect(st.Issuer).To(Equal(fake.IssuerURL()))
		ep := fake.Endpoints()
		Expect(st.AuthorizationEndpoint).To(Equal(ep.Authorization))
		Expect(st.TokenEndpoint).To(Equal(ep.Token))
		Expect(st.RegistrationEndpoint).To(Equal(ep.Registration))
		Expect(st.RevocationEndpoint).To(Equal(ep.Revocation))
		Expect(st.Resource).To(Equal(fake.MCPURL()))
		Expect(st.Scopes).To(Equal([]string{"mcp:read", "mcp:tools"}), "the challenge scope")
		Expect(st.Registration).To(Equal(mcpv1.RegistrationDCR))
		Expect(st.RedirectURI).To(Equal(mcpauth.RedirectURI(testConfig().CallbackURL, ns, "auto")))
		Expect(st.ClientSecretName).To(Equal("auto-oauth2-client"))
		Expect(st.LastDiscoveryTime).NotTo(BeNil())

		secret := clientSecret(ns, "auto")
		Expect(secret.Type).To(Equal(mcpv1.SecretTypeOAuth2Client))
		Expect(secret.Labels).To(HaveKeyWithValue(mcpv1.LabelManagedBy, mcpv1.ManagedByValue))
		Expect(metav1.IsControlledBy(secret, server)).To(BeTrue())
		Expect(string(secret.Data[mcpv1.ClientKeyClientID])).To(Equal(st.ClientID))
		Expect(secret.Data).To(HaveKey(mcpv1.ClientKeyRegistrationAccessToken))
		Expect(fake.RegisteredClientCount()).To(Equal(1))

		// The consumers' view through the one mapping.
		flow, err := serverconfig.Load(ctx, k8sClient, server)
		Expect(err).NotTo(HaveOccurred())
		Expect(flow.Client.ClientID).To(Equal(st.ClientID))
		Expect(flow.RedirectURI).To(Equal(st.RedirectURI))
		Expect(flow.Endpoint.TokenEndpoint).To(Equal(ep.Token))
	})

	It("copies a pre-registered client into the client Secret and keeps the discovered issuer", func() {
		fake := newFake(fakeauth.Options{DisableDCR: true})
		static := fake.AddClient(fakeauth.Client{RedirectURIs: []string{mcpauth.RedirectURI(testConfig().CallbackURL, ns, "static")}})
		Expect(k8sClient.Create(ctx, fixture.CredentialSecret(ns, "creds", map[string]string{"secret": static.Secret}))).To(Succeed())
		ep := fake.Endpoints()
		server := newOAuth2Server(ns, "static", fake.MCPURL())
		server.Spec.Auth.OAuth2 = &mcpv1.OAuth2Auth{ClientID: static.ID, AuthorizationURL: ep.Authorization, TokenURL: ep.Token,
			ClientSecretRef: &mcpv1.SecretKeySelector{Name: "creds", Key: "secret"}}
		Expect(k8sClient.Create(ctx, server)).To(Succeed())

		waitReady(server)
		Expect(authCondition(server).Reason).To(Equal(mcpv1.ReasonStaticClient))
		Expect(server.Status.OAuth2.Registration).To(Equal(mcpv1.RegistrationStatic))
		Expect(server.Status.OAuth2.Issuer).To(Equal(fake.IssuerURL()))
		Expect(server.Status.OAuth2.Resource).To(Equal(fake.MCPURL()))
		flow, err := serverconfig.Load(ctx, k8sClient, server)
		Expect(err).NotTo(HaveOccurred())
		Expect(flow.Client.ClientID).To(Equal(static.ID))
		Expect(flow.Client.ClientSecret).To(Equal(static.Secret))
	})

	It("reaches Ready against a server that speaks only MCP 2026-07-28 (refusing a 2025-11-25 initialize with 400)", func() {
		fake := newFake(fakeauth.Options{ModernOnly: true})
		server := createOAuth2Server(ns, "modern-only", fake.MCPURL())
		waitReady(server)
		reachable := condition(server, mcpv1.ConditionReachable)
		Expect(reachable.Reason).To(Equal(mcpv1.ReasonAuthorizationRequired))
		Expect(reachable.Message).To(ContainSubstring("MCP 2026-07-28"))
		Expect(fake.Counters().MCPLegacyRefused).To(BeZero(), "the modern probe is answered first; no legacy request is needed")
	})

	It("registers with the authorization server spec.auth.oauth2.issuer picks of those the metadata lists, the first by default", func() {
		first := newFake(fakeauth.Options{})
		fake := newFake(fakeauth.Options{OtherAuthorizationServers: []string{first.IssuerURL()}})

		byDefault := createOAuth2Server(ns, "first-listed", fake.MCPURL())
		pinned := newOAuth2Server(ns, "pinned", fake.MCPURL())
		pinned.Spec.Auth.OAuth2.Issuer = fake.IssuerURL()
		Expect(k8sClient.Create(ctx, pinned)).To(Succeed())
		unlisted := newOAuth2Server(ns, "unlisted", fake.MCPURL())
		unlisted.Spec.Auth.OAuth2.Issuer = "http://127.0.0.1:1/not-listed"
		Expect(k8sClient.Create(ctx, unlisted)).To(Succeed())

		waitReady(byDefault)
		Expect(byDefault.Status.OAuth2.Issuer).To(Equal(first.IssuerURL()))
		waitReady(pinned)
		Expect(pinned.Status.OAuth2.Issuer).To(Equal(fake.IssuerURL()))
		Expect(pinned.Status.OAuth2.TokenEndpoint).To(Equal(fake.Endpoints().Token))
		Expect(first.RegisteredClientCount()).To(Equal(1))
		Expect(fake.RegisteredClientCount()).To(Equal(1))

		key := client.ObjectKeyFromObject(unlisted)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonIssuerNotListed))
		Expect(get(key)(Default)).To(haveCondition(mcpv1.ConditionStalled, metav1.ConditionTrue, mcpv1.ReasonIssuerNotListed))
		Expect(condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message).To(
			And(ContainSubstring("spec.auth.oauth2.issuer"), ContainSubstring(first.IssuerURL()), ContainSubstring(fake.IssuerURL())))
	})

	It("keys a pre-registered client by the issuer it names: used when listed, a condition when not", func() {
		other := newFake(fakeauth.Options{})
		fake := newFake(fakeauth.Options{DisableDCR: true, OtherAuthorizationServers: []string{other.IssuerURL()}})
		ep := fake.Endpoints()
		static := func(name, issuer string) *mcpv1.MCPServer {
			c := fake.AddClient(fakeauth.Client{RedirectURIs: []string{mcpauth.RedirectURI(testConfig().CallbackURL, ns, name)}})
			s := newOAuth2Server(ns, name, fake.MCPURL())
			s.Spec.Auth.OAuth2 = &mcpv1.OAuth2Auth{ClientID: c.ID, AuthorizationURL: ep.Authorization, TokenURL: ep.Token, Issuer: issuer}
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
			return s
		}
		listed := static("listed", fake.IssuerURL())
		notListed := static("not-listed", "http://127.0.0.1:1/elsewhere")

		// Without the issuer, the first listed authorization server (other)
		// would be the discovered one, and its endpoints are not in spec:
		// the issuer would be unknown and RFC 9207 not enforced.
		waitReady(listed)
		Expect(listed.Status.OAuth2.Issuer).To(Equal(fake.IssuerURL()))
		flow, err := serverconfig.Load(ctx, k8sClient, listed)
		Expect(err).NotTo(HaveOccurred())
		Expect(flow.Endpoint.Issuer).To(Equal(fake.IssuerURL()))
		Expect(flow.Client.Issuer).To(Equal(fake.IssuerURL()))

		Eventually(get(client.ObjectKeyFromObject(notListed))).Should(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonIssuerNotListed))
	})

	It("holds a pre-registered client's authorization server to PKCE S256 like a discovered one", func() {
		fake := newFake(fakeauth.Options{DisableDCR: true})
		fake.SetFault(fakeauth.Fault{NoPKCE: true})
		static := fake.AddClient(fakeauth.Client{RedirectURIs: []string{mcpauth.RedirectURI(testConfig().CallbackURL, ns, "no-pkce")}})
		ep := fake.Endpoints()
		server := newOAuth2Server(ns, "no-pkce", fake.MCPURL())
		server.Spec.Auth.OAuth2 = &mcpv1.OAuth2Auth{ClientID: static.ID, AuthorizationURL: ep.Authorization, TokenURL: ep.Token}
		Expect(k8sClient.Create(ctx, server)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			c := authCondition(server)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(mcpv1.ReasonPKCEUnsupported))
		}).Should(Succeed())
	})

	It("re-registers when the server moves to another authorization server, removing the old client and tokens", func() {
		oldAS, newAS := newFake(fakeauth.Options{}), newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "moving", oldAS.MCPURL())
		waitReady(server)
		oldID := server.Status.OAuth2.ClientID
		token := createTokenSecret(server, "alice")

		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.URL = newAS.MCPURL()
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2.Issuer).To(Equal(newAS.IssuerURL()))
			g.Expect(meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
		Expect(server.Status.OAuth2.ClientID).NotTo(Equal(oldID))
		Expect(oldAS.Counters().RegistrationDelete).To(Equal(1), "RFC 7592 DELETE at the old server")
		Expect(oldAS.RegisteredClientCount()).To(Equal(0))
		Expect(newAS.RegisteredClientCount()).To(Equal(1))
		Expect(string(clientSecret(ns, "moving").Data[mcpv1.ClientKeyIssuer])).To(Equal(newAS.IssuerURL()))
		expectGone(token)
		Expect(eventReasons(ns, "moving")).To(ContainElement("OAuth2ClientRemoved"))
	})

	It("keeps the client, its registration and every user when the metadata origin answers a 403 HTML page", func() {
		// Metadata at the well-known URL only (the 401 names no
		// resource_metadata, which the spec allows), the authorization server
		// on an origin of its own.
		fake := newFake(fakeauth.Options{SeparateOrigins: true, PRM: fakeauth.PRMRootOnly})
		server := createOAuth2Server(ns, "waf", fake.MCPURL())
		waitReady(server)
		clientID := server.Status.OAuth2.ClientID
		Expect(server.Status.OAuth2.ResourceMetadataURL).NotTo(BeEmpty())
		token := createTokenSecret(server, "alice")

		// A WAF rule: every /.well-known/ URL of the MCP origin answers 403 HTML.
		fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{fakeauth.EndpointPRM: {Status: http.StatusForbidden, HTML: true}}})
		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.Description = "edited while the WAF blocks metadata"
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		// Discovery ran for the new generation and failed as temporary ...
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			c := authCondition(server)
			g.Expect(c.ObservedGeneration).To(Equal(server.Generation))
			g.Expect(c.Message).To(ContainSubstring("missing now"))
		}).Should(Succeed())
		// ... and nothing was lost: same client, registration, users.
		Consistently(func(g Gomega) {
			g.Expect(fake.RegisteredClientCount()).To(Equal(1))
			g.Expect(fake.Counters().RegistrationDelete).To(BeZero())
			g.Expect(fake.Counters().Register).To(Equal(1))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), &corev1.Secret{})).To(Succeed())
			g.Expect(string(clientSecret(ns, "waf").Data[mcpv1.ClientKeyClientID])).To(Equal(clientID))
		}, 3*time.Second, 200*time.Millisecond).Should(Succeed())

		fake.SetFault(fakeauth.Fault{})
		waitReady(server)
		Expect(server.Status.OAuth2.ClientID).To(Equal(clientID))
		Expect(fake.Counters().Register).To(Equal(1))
	})

	It("keeps the old client and its users while the new authorization server refuses to register", func() {
		oldAS, newAS := newFake(fakeauth.Options{}), newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "refused", oldAS.MCPURL())
		waitReady(server)
		oldID := server.Status.OAuth2.ClientID
		token := createTokenSecret(server, "alice")

		newAS.SetFault(fakeauth.Failing(http.StatusServiceUnavailable, fakeauth.EndpointRegister))
		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.URL = newAS.MCPURL()
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			c := authCondition(server)
			g.Expect(c.ObservedGeneration).To(Equal(server.Generation))
			g.Expect(c.Reason).To(Equal(mcpv1.ReasonRegistrationFailed))
		}).Should(Succeed())
		Expect(oldAS.Counters().RegistrationDelete).To(BeZero(), "the old registration was deleted before a new one existed")
		Expect(oldAS.RegisteredClientCount()).To(Equal(1))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), &corev1.Secret{})).To(Succeed())
		Expect(string(clientSecret(ns, "refused").Data[mcpv1.ClientKeyClientID])).To(Equal(oldID))

		newAS.SetFault(fakeauth.Fault{})
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2.Issuer).To(Equal(newAS.IssuerURL()))
			g.Expect(meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
		Expect(oldAS.Counters().RegistrationDelete).To(Equal(1))
		expectGone(token)
	})

	It("re-registers when a token request reported invalid_client, then clears the signal", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "invalid", fake.MCPURL())
		waitReady(server)
		oldID := server.Status.OAuth2.ClientID
		fake.RevokeClient(oldID) // the provider forgot the client, as AWS does

		patch := client.MergeFrom(server.DeepCopy())
		server.SetAnnotations(map[string]string{mcpv1.AnnotationClientInvalid: oldID})
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2.ClientID).NotTo(Equal(oldID))
			g.Expect(server.Annotations).NotTo(HaveKey(mcpv1.AnnotationClientInvalid))
		}).Should(Succeed())
		Expect(fake.RegisteredClientCount()).To(Equal(1))
		Expect(fake.Counters().Register).To(Equal(2))
		Eventually(func() []string { return eventReasons(ns, "invalid") }).Should(ContainElement(mcpv1.ReasonRegistered))
	})

	It("dismisses an invalid_client report the authorization server contradicts, losing no user", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "doubted", fake.MCPURL())
		waitReady(server)
		clientID := server.Status.OAuth2.ClientID
		token := createTokenSecret(server, "alice")

		// One report, while the provider still knows the client.
		patch := client.MergeFrom(server.DeepCopy())
		server.SetAnnotations(map[string]string{mcpv1.AnnotationClientInvalid: clientID})
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Annotations).NotTo(HaveKey(mcpv1.AnnotationClientInvalid))
		}).Should(Succeed())
		Expect(server.Status.OAuth2.ClientID).To(Equal(clientID))
		Expect(fake.Counters().Register).To(Equal(1))
		Expect(fake.Counters().RegistrationDelete).To(BeZero())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), &corev1.Secret{})).To(Succeed())
	})

	It("renews an expiring client secret through RFC 7592, keeping the client and every user", func() {
		fake := newFake(fakeauth.Options{DCRAuthMethod: fakeauth.AuthBasic, ClientSecretTTL: 4 * time.Second})
		server := createOAuth2Server(ns, "renewed", fake.MCPURL())
		waitReady(server)
		clientID := server.Status.OAuth2.ClientID
		oldSecret := string(clientSecret(ns, "renewed").Data[mcpv1.ClientKeyClientSecret])
		token := createTokenSecret(server, "alice")

		// Half-way through the secret's life it is due; any reconcile renews it.
		time.Sleep(2500 * time.Millisecond)
		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.Description = "past half-life"
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func() int { return fake.Counters().RegistrationUpdate }).Should(Equal(1))
		Eventually(func(g Gomega) {
			stored := clientSecret(ns, "renewed")
			g.Expect(string(stored.Data[mcpv1.ClientKeyClientID])).To(Equal(clientID))
			g.Expect(string(stored.Data[mcpv1.ClientKeyClientSecret])).NotTo(Equal(oldSecret))
			atFake, ok := fake.Client(clientID)
			g.Expect(ok).To(BeTrue())
			g.Expect(string(stored.Data[mcpv1.ClientKeyClientSecret])).To(Equal(atFake.Secret))
		}).Should(Succeed())
		Eventually(func() []string { return eventReasons(ns, "renewed") }).Should(ContainElement(mcpv1.EventReasonClientSecretRenewed))
		Consistently(func() int { return fake.Counters().RegistrationUpdate }, "1s").Should(Equal(1), "renewed again at once")
		Expect(fake.Counters().Register).To(Equal(1))
		Expect(fake.Counters().RegistrationDelete).To(BeZero())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), &corev1.Secret{})).To(Succeed())
		Expect(eventReasons(ns, "renewed")).NotTo(ContainElement(mcpv1.EventReasonOAuth2ClientRemoved))
	})

	It("registers a new client first when an expiring secret cannot be renewed", func() {
		fake := newFake(fakeauth.Options{DCRAuthMethod: fakeauth.AuthBasic, ClientSecretTTL: 4 * time.Second})
		server := createOAuth2Server(ns, "unrenewable", fake.MCPURL())
		waitReady(server)
		oldID := server.Status.OAuth2.ClientID
		fake.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
			fakeauth.EndpointRegistration: {Status: http.StatusForbidden, Code: "access_denied"}}})

		time.Sleep(2500 * time.Millisecond)
		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.Description = "past half-life"
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2.ClientID).NotTo(Equal(oldID))
			g.Expect(meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
		Expect(fake.Counters().RegistrationUpdate).To(BeNumerically(">=", 1))
		Expect(eventReasons(ns, "unrenewable")).To(ContainElement(mcpv1.EventReasonClientSecretNotRenewed))
	})

	It("finishes a replacement the manager stopped in the middle of, keeping the successor's users", func() {
		fake := newFake(fakeauth.Options{DCRAuthMethod: fakeauth.AuthBasic})
		server := createOAuth2Server(ns, "half-replaced", fake.MCPURL())
		waitReady(server)
		stored := clientSecret(ns, "half-replaced")
		old := serverconfig.ClientFromSecret(stored)

		// What a manager leaves behind when it stops between storing a new
		// client and retiring the old one: the successor in the Secret with
		// the old client recorded beside it, and users of both.
		successor, err := oauth.Register(ctx, oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}),
			&oauth.AuthServerMetadata{Issuer: fake.IssuerURL(), RegistrationEndpoint: fake.Endpoints().Registration},
			oauth.RegistrationRequest{RedirectURI: string(stored.Data[mcpv1.ClientKeyRedirectURI])})
		Expect(err).NotTo(HaveOccurred())
		oldUser := fixture.Grant("alice", time.Now())
		oldUser.ClientID = old.ClientID
		alice := fixture.TokenSecret(server, oldUser)
		Expect(k8sClient.Create(ctx, alice)).To(Succeed())
		newUser := fixture.Grant("bob", time.Now())
		newUser.ClientID = successor.ClientID
		bob := fixture.TokenSecret(server, newUser)
		Expect(k8sClient.Create(ctx, bob)).To(Succeed())

		data := serverconfig.ClientSecretData(successor, string(stored.Data[mcpv1.ClientKeyRedirectURI]))
		serverconfig.AddRetiring(data, &old, "the test replaced it")
		stored.Data = data
		Expect(k8sClient.Update(ctx, stored)).To(Succeed())

		Eventually(func(g Gomega) {
			_, known := fake.Client(old.ClientID)
			g.Expect(known).To(BeFalse(), "the replaced client's registration was not deleted")
			pending, _ := serverconfig.RetiringFromSecret(clientSecret(ns, "half-replaced"))
			g.Expect(pending).To(BeNil())
		}).Should(Succeed())
		expectGone(alice)
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(bob), &corev1.Secret{})).To(Succeed())
		_, known := fake.Client(successor.ClientID)
		Expect(known).To(BeTrue())
		Expect(string(clientSecret(ns, "half-replaced").Data[mcpv1.ClientKeyClientID])).To(Equal(successor.ClientID))
		Expect(fake.Counters().Register).To(Equal(2), "only the test's registration besides the first")
	})

	It("discovers again at once when asked through the reconcile-requested-at annotation", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "nudged", fake.MCPURL())
		waitReady(server)
		Expect(meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionReconciling)).To(BeNil())
		Expect(meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionStalled)).To(BeNil())
		fetches := fake.Counters().ASMetadata

		patch := client.MergeFrom(server.DeepCopy())
		server.SetAnnotations(map[string]string{mcpv1.AnnotationReconcileRequestedAt: "now-1"})
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.LastHandledReconcileAt).To(Equal("now-1"))
		}).Should(Succeed())
		Expect(fake.Counters().ASMetadata).To(BeNumerically(">", fetches), "the authorization server's metadata was fetched again, not taken from the cache")
	})

	It("notices at discovery that the authorization server forgot the registration, and registers again", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "forgotten", fake.MCPURL())
		waitReady(server)
		oldID := server.Status.OAuth2.ClientID
		fake.RevokeClient(oldID) // an in-memory store restarted: nobody reports anything

		// A new generation is discovered again, as a periodic rediscovery would.
		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.Description = "rediscover"
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2.ClientID).NotTo(Equal(oldID))
			g.Expect(meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
		Expect(fake.Counters().Register).To(Equal(2))
		Expect(fake.RegisteredClientCount()).To(Equal(1))
	})

	It("removes every trace of OAuth2 when the auth type changes", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "switch", fake.MCPURL())
		waitReady(server)
		token := createTokenSecret(server, "bob")

		patch := client.MergeFrom(server.DeepCopy())
		server.Spec.Auth = mcpv1.Auth{Type: mcpv1.AuthTypeNone}
		Expect(k8sClient.Patch(ctx, server, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			g.Expect(server.Status.OAuth2).To(BeNil())
		}).Should(Succeed())
		expectGone(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "switch-oauth2-client"}})
		expectGone(token)
		Expect(fake.Counters().RegistrationDelete).To(Equal(1))
		Expect(fake.RegisteredClientCount()).To(Equal(0))
		Expect(eventReasons(ns, "switch")).To(ContainElement("OAuth2ClientRemoved"))
	})

	It("deletes the registration (RFC 7592) when the MCPServer is deleted", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "gone", fake.MCPURL())
		waitReady(server)

		Expect(k8sClient.Delete(ctx, server)).To(Succeed())
		expectGone(server)
		Expect(fake.Counters().RegistrationDelete).To(Equal(1))
		Expect(fake.RegisteredClientCount()).To(Equal(0))
	})

	It("deletes the registration even when the client Secret is deleted first, as garbage collection does", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "gc-first", fake.MCPURL())
		waitReady(server)
		secret := clientSecret(ns, "gc-first")
		Expect(secret.Finalizers).To(ContainElement(mcpv1.Finalizer))

		Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
		Expect(k8sClient.Delete(ctx, server)).To(Succeed())
		expectGone(server)
		expectGone(secret)
		Expect(fake.RegisteredClientCount()).To(BeZero(), "a registration was left behind at the authorization server")
	})

	It("revokes users' tokens and deletes every Secret it owned, also when the MCPServer is orphan-deleted", func() {
		fake := newFake(fakeauth.Options{})
		server := createOAuth2Server(ns, "orphaned", fake.MCPURL())
		waitReady(server)
		tok, err := fake.IssueTokens(server.Status.OAuth2.ClientID)
		Expect(err).NotTo(HaveOccurred())
		token := fixture.TokenSecret(server, fixture.FakeGrant(fake, "alice", tok, time.Now()))
		Expect(k8sClient.Create(ctx, token)).To(Succeed())
		secret := clientSecret(ns, "orphaned")

		// Orphan deletion: garbage collection strips the owner references.
		for _, obj := range []client.Object{secret, token} {
			patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
			obj.SetOwnerReferences(nil)
			Expect(k8sClient.Patch(ctx, obj, patch)).To(Succeed())
		}
		Expect(k8sClient.Delete(ctx, server, client.PropagationPolicy(metav1.DeletePropagationOrphan))).To(Succeed())

		expectGone(secret)
		expectGone(token)
		Expect(fake.Counters().RegistrationDelete).To(Equal(1))
		Expect(fake.WasRevoked(tok.RefreshToken)).To(BeTrue(), "the revocation was accepted: sent while the client still existed")
		Expect(fake.GrantAlive(tok.RefreshToken)).To(BeFalse(), "the user's grant is still alive at the authorization server")
	})

	It("reports an authorization server outage and recovers once it is healthy", func() {
		fake := newFake(fakeauth.Options{})
		fake.SetFault(fakeauth.Failing(503, fakeauth.EndpointMetadata))
		server := createOAuth2Server(ns, "outage", fake.MCPURL())

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			c := authCondition(server)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(mcpv1.ReasonDiscoveryFailed))
			g.Expect(c.Message).To(ContainSubstring(fake.ASOrigin()), "the message names the URL that failed")
			g.Expect(c.Message).To(ContainSubstring("retries"))
		}).Should(Succeed())
		Eventually(func() []string { return eventReasons(ns, "outage") }).Should(ContainElement(mcpv1.ReasonDiscoveryFailed))

		fake.SetFault(fakeauth.Fault{})
		waitReady(server)
		Expect(fake.RegisteredClientCount()).To(Equal(1))
	})
})

// The restart spec runs on an API server of its own: no other manager may
// reconcile its MCPServer, so every registration and log line it sees is
// the restarted manager's.
var _ = Describe("OAuth2 client reuse across manager restarts", Ordered, func() {
	var api client.Client
	var apiCfg *rest.Config
	BeforeAll(func() {
		env, restCfg, err := envtestutil.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		apiCfg = restCfg
		api, err = client.New(restCfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
	})

	It("keeps exactly one registration across manager restarts and never logs, reports or stores a secret outside the Secret", func() {
		ns, err := envtestutil.NewNamespace(ctx, api, "restart")
		Expect(err).NotTo(HaveOccurred())
		clk := clocktesting.NewFakeClock(time.Now().Truncate(time.Second))
		// A DCR client with a secret, so there is a secret to leak.
		fake := newFake(fakeauth.Options{DCRAuthMethod: fakeauth.AuthBasic})
		fake.SetFault(fakeauth.Fault{NoRegistrationEndpoint: true})
		server := newOAuth2Server(ns, "restarts", fake.MCPURL())
		Expect(api.Create(ctx, server)).To(Succeed())

		// No automatic registration, which only a person can fix: the
		// condition says what to do.
		logs := []*gbytes.Buffer{gbytes.NewBuffer()}
		stop := startManager(apiCfg, ns, clk, logs[0])
		Eventually(func(g Gomega) {
			g.Expect(api.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
			c := authCondition(server)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(mcpv1.ReasonRegistrationUnsupported))
			g.Expect(c.Message).To(ContainSubstring("spec.auth.oauth2.clientID"))
		}).Should(Succeed())
		stop()

		// The provider enables DCR; a fresh manager registers at startup.
		fake.SetFault(fakeauth.Fault{})
		logs = append(logs, gbytes.NewBuffer())
		clk.Step(time.Hour)
		stop = startManager(apiCfg, ns, clk, logs[1])
		waitReadyIn(api, server)
		Expect(fake.Counters().Register).To(Equal(1))
		Eventually(logs[1]).Should(gbytes.Say("Obtained OAuth client"))
		stop()

		for i := range 3 {
			buf := gbytes.NewBuffer()
			logs = append(logs, buf)
			clk.Step(time.Hour)
			before := fake.Counters().ASMetadata
			stop := startManager(apiCfg, ns, clk, buf)
			// It re-discovered (its interval is tiny) and finished the
			// reconcile: status carries this restart's discovery time.
			Eventually(func() int { return fake.Counters().ASMetadata }).Should(BeNumerically(">", before), "restart %d", i+1)
			Eventually(func(g Gomega) {
				g.Expect(api.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
				g.Expect(server.Status.OAuth2).NotTo(BeNil())
				g.Expect(server.Status.OAuth2.LastDiscoveryTime).NotTo(BeNil())
				g.Expect(server.Status.OAuth2.LastDiscoveryTime.Time.Equal(clk.Now())).To(BeTrue(), "restart %d", i+1)
			}).Should(Succeed())
			stop()
			Expect(fake.Counters().Register).To(Equal(1), "restart %d registered again", i+1)
			Expect(fake.RegisteredClientCount()).To(Equal(1))
		}

		secret := clientSecretIn(api, ns, "restarts")
		clientSecretValue := string(secret.Data[mcpv1.ClientKeyClientSecret])
		rat := string(secret.Data[mcpv1.ClientKeyRegistrationAccessToken])
		Expect(clientSecretValue).NotTo(BeEmpty())
		Expect(rat).NotTo(BeEmpty())

		Expect(api.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
		status, err := json.Marshal(server.Status)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(status)).To(ContainSubstring(server.Status.OAuth2.ClientID))
		var events []string
		for _, e := range listEventsIn(api, ns, "restarts") {
			events = append(events, e.Reason+" "+e.Note)
		}
		for what, text := range map[string]string{"status": string(status), "events": strings.Join(events, "\n")} {
			Expect(text).NotTo(ContainSubstring(clientSecretValue), "client secret in %s", what)
			Expect(text).NotTo(ContainSubstring(rat), "registration access token in %s", what)
		}
		// client-go dumps API request and response bodies at V(8), where
		// Secret data is raw (protobuf, hex-dumped) or base64 (JSON): look
		// for every form.
		forbidden := map[string]string{
			"client secret": clientSecretValue, "base64 client secret": base64.StdEncoding.EncodeToString([]byte(clientSecretValue)),
			"registration access token": rat, "base64 registration access token": base64.StdEncoding.EncodeToString([]byte(rat)),
		}
		for i, buf := range logs {
			text := logscan.Text(buf.Contents())
			if i == 1 {
				Expect(text).To(ContainSubstring(server.Status.OAuth2.ClientID), "the registering manager logged the client")
			}
			Expect(text).To(ContainSubstring(`"level":"Level(-5)"`), "manager %d logged at high verbosity", i)
			for what, value := range forbidden {
				Expect(text).NotTo(ContainSubstring(value), "%s in the logs of manager %d", what, i)
			}
		}
	})
})

// newFake starts a fake authorization server + MCP server for one test.
func newFake(opts fakeauth.Options) *fakeauth.Server {
	fake := fakeauth.New(opts)
	DeferCleanup(fake.Close)
	return fake
}

// newOAuth2Server is an auto-configured OAuth2 server.
func newOAuth2Server(ns, name, url string) *mcpv1.MCPServer {
	return fixture.MCPServer(ns, name, url, fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
}

func createOAuth2Server(ns, name, url string) *mcpv1.MCPServer {
	server := newOAuth2Server(ns, name, url)
	Expect(k8sClient.Create(ctx, server)).To(Succeed())
	return server
}

func authCondition(server *mcpv1.MCPServer) *metav1.Condition {
	return meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionAuthConfigured)
}

// waitReady waits until server is Ready for its current generation.
func waitReady(server *mcpv1.MCPServer) {
	GinkgoHelper()
	waitReadyIn(k8sClient, server)
}

func waitReadyIn(c client.Client, server *mcpv1.MCPServer) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(server), server)).To(Succeed())
		c := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
		g.Expect(c.ObservedGeneration).To(Equal(server.Generation))
		g.Expect(server.Status.OAuth2).NotTo(BeNil())
	}).Should(Succeed())
}

func clientSecret(ns, server string) *corev1.Secret {
	GinkgoHelper()
	return clientSecretIn(k8sClient, ns, server)
}

func clientSecretIn(c client.Client, ns, server string) *corev1.Secret {
	GinkgoHelper()
	secret := &corev1.Secret{}
	Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: mcpv1.ClientSecretName(server)}, secret)).To(Succeed())
	return secret
}

// createTokenSecret stands in for a user's token Secret written by the
// callback server.
func createTokenSecret(server *mcpv1.MCPServer, user string) *corev1.Secret {
	GinkgoHelper()
	secret := fixture.TokenSecret(server, fixture.Grant(user, time.Now()))
	Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	return secret
}

func expectGone(obj client.Object) {
	GinkgoHelper()
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue(), "%s still exists", obj.GetName())
}

func listEvents(ns, name string) []eventsv1.Event {
	GinkgoHelper()
	return listEventsIn(k8sClient, ns, name)
}

func listEventsIn(c client.Client, ns, name string) []eventsv1.Event {
	GinkgoHelper()
	list := &eventsv1.EventList{}
	Expect(c.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func eventReasons(ns, name string) []string {
	var reasons []string
	for _, e := range listEvents(ns, name) {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

// startManager starts a manager on the API server at apiCfg, as after a
// restart: limited to ns, on clk, logging everything at the highest
// verbosity into buf, re-discovering on every reconcile. The returned
// function stops it and waits for it.
func startManager(apiCfg *rest.Config, ns string, clk clock.WithTicker, buf *gbytes.Buffer) func() {
	GinkgoHelper()
	cacheOpts := controllers.CacheOptions()
	cacheOpts.DefaultNamespaces = map[string]cache.Config{ns: {}}
	mgr, err := ctrl.NewManager(apiCfg, ctrl.Options{
		Scheme:     scheme,
		Logger:     zap.New(zap.WriteTo(buf), zap.Level(zapcore.Level(-10))),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Client:     controllers.ClientOptions(),
		Cache:      cacheOpts,
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	mctx, cancel := context.WithCancel(ctx)
	c := testConfig()
	c.RediscoveryInterval = time.Nanosecond
	c.Clock = clk
	Expect(controllers.SetupWithManager(mctx, mgr, c)).To(Succeed())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	return func() {
		cancel()
		Eventually(done).Should(BeClosed())
	}
}
