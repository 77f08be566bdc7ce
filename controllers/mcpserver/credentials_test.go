package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/mcpserver"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/mcptest"
)

func condition(s *mcpv1.MCPServer, t string) *metav1.Condition {
	return meta.FindStatusCondition(s.Status.Conditions, t)
}

// get re-reads a server for Eventually.
func get(key client.ObjectKey) func(Gomega) *mcpv1.MCPServer {
	return func(g Gomega) *mcpv1.MCPServer {
		s := &mcpv1.MCPServer{}
		g.Expect(k8sClient.Get(ctx, key, s)).To(Succeed())
		return s
	}
}

func haveCondition(t string, status metav1.ConditionStatus, reason string) OmegaMatcher {
	return WithTransform(func(s *mcpv1.MCPServer) *metav1.Condition { return condition(s, t) },
		And(Not(BeNil()), HaveField("Status", status), HaveField("Reason", reason)))
}

func warningEvents(ns, reason string) func(Gomega) []eventsv1.Event {
	return func(g Gomega) []eventsv1.Event {
		list := &eventsv1.EventList{}
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Type == corev1.EventTypeWarning && e.Reason == reason {
				out = append(out, e)
			}
		}
		return out
	}
}

// readinessMetric reads mcp_operator_mcpserver_ready for one server from
// the manager's registry; present is false when it has no series.
func readinessMetric(ns, name string) (value float64, present bool) {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "mcp_operator_mcpserver_ready" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["name"] == name {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

var _ = Describe("Credential resolution", func() {
	It("marks a None server ready, with its server info and filtered tools", func() {
		mcp := mcptest.NewServer("", "")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "open", mcp.URL)
		s.Spec.Tools = &mcpv1.ToolFilter{Deny: []string{"shout"}}
		Expect(k8sClient.Create(ctx, s)).To(Succeed())

		Eventually(get(client.ObjectKeyFromObject(s))).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonNotRequired),
			haveCondition(mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonConnected),
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady),
			HaveField("Status.Server.Name", "mcptest"),
			HaveField("Status.Tools", ConsistOf("greet", "whisper")),
		))
		ready := func() float64 { v, _ := readinessMetric(ns, "open"); return v }
		present := func() bool { _, p := readinessMetric(ns, "open"); return p }
		Eventually(ready).Should(BeEquivalentTo(1), "mcp_operator_mcpserver_ready follows the Ready condition")

		Expect(k8sClient.Delete(ctx, s)).To(Succeed())
		Eventually(present).Should(BeFalse(), "a deleted server's series is removed")
	})

	It("goes False while an APIKey Secret is missing and True once it appears, without a resync", func() {
		mcp := mcptest.NewServer("X-API-Key", "s3cr3t-value")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "keyed", mcp.URL, fixture.WithAPIKey("X-API-Key", "api-key", "key"))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)

		Eventually(get(key)).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretNotFound),
			haveCondition(mcpv1.ConditionReady, metav1.ConditionFalse, mcpv1.ReasonSecretNotFound),
		))
		Expect(condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message).To(
			ContainSubstring("Secret " + ns + `/api-key (key "key") referenced by spec.auth.apiKey.secretKeyRef does not exist`))
		Eventually(warningEvents(ns, mcpv1.ReasonSecretNotFound)).ShouldNot(BeEmpty())
		value, present := readinessMetric(ns, "keyed")
		Expect(present).To(BeTrue())
		Expect(value).To(BeZero(), "mcp_operator_mcpserver_ready is 0 while Ready is False")

		// A Secret without the key: still False, naming the key.
		secret := fixture.CredentialSecret(ns, "api-key", map[string]string{"other": "x"})
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretKeyNotFound))
		Expect(condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message).To(ContainSubstring(`key "key"`))

		secret.StringData = map[string]string{"key": "s3cr3t-value"}
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(get(key)).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionTrue, mcpv1.ReasonSecretsResolved),
			haveCondition(mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonConnected),
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady),
		))

		got := get(key)(Default)
		for _, c := range got.Status.Conditions {
			Expect(c.ObservedGeneration).To(Equal(got.Generation), "condition %s", c.Type)
			Expect(c.Message).NotTo(ContainSubstring("s3cr3t-value"))
		}
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	})

	It("resolves a Headers Secret and reports a Secret with no keys or a key that is no usable header", func() {
		mcp := mcptest.NewServer("X-Team-Token", "team")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		secret := fixture.CredentialSecret(ns, "hdrs", nil)
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		s := fixture.MCPServer(ns, "headers", mcp.URL, fixture.WithAuth(mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
			Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "hdrs"}}}))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretKeyNotFound))

		// Created after admission, so only the reconciler can catch it.
		secret.Data = map[string][]byte{"Host": []byte("evil.example")}
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonInvalidHeader))
		Expect(condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message).To(
			And(ContainSubstring(`key "Host"`), ContainSubstring("hdrs"), Not(ContainSubstring("evil.example"))))

		secret.Data = map[string][]byte{"X-Team-Token": []byte("team")}
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))
	})

	It("sends no Secret its owner did not opt in, and picks it up once labelled", func() {
		mcp, seen := recordingMCPServer("X-Team-Token", "team-s3cr3t")
		ns := newNamespace()
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hdrs"},
			StringData: map[string]string{"X-Team-Token": "team-s3cr3t"}}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		s := fixture.MCPServer(ns, "headers", mcp.URL, fixture.WithAuth(mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
			Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "hdrs"}}}))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)

		Eventually(get(key)).Should(And(
			haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretNotOptedIn),
			haveCondition(mcpv1.ConditionReady, metav1.ConditionFalse, mcpv1.ReasonSecretNotOptedIn),
		))
		msg := condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message
		Expect(msg).To(And(
			ContainSubstring("Secret "+ns+"/hdrs referenced by spec.auth.headers.secretRef is not labelled mcpoperator.io/credential=true"),
			ContainSubstring("kubectl label secret -n "+ns+" hdrs mcpoperator.io/credential=true"),
			Not(ContainSubstring("X-Team-Token")), Not(ContainSubstring("team-s3cr3t")),
		))
		Eventually(warningEvents(ns, mcpv1.ReasonSecretNotOptedIn)).ShouldNot(BeEmpty())
		Expect(get(key)(Default)).To(haveCondition(mcpv1.ConditionReachable, metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped))
		Consistently(seen.carried, "2s").Should(BeFalse(), "a request carried the value of a Secret that was not opted in")

		// Labelling the Secret wakes the server (no resync in this suite).
		secret.Labels = map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue}
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))
		Expect(seen.carried()).To(BeTrue())
	})

	It("never sends an operator-owned Secret, even labelled", func() {
		mcp, seen := recordingMCPServer("Access_token", "user-access-t0ken")
		ns := newNamespace()
		// Referenced before it exists (as GitOps may), so the webhook has
		// nothing to refuse and only the reconciler can.
		s := fixture.MCPServer(ns, "grab", mcp.URL, fixture.WithAuth(mcpv1.Auth{Type: mcpv1.AuthTypeHeaders,
			Headers: &mcpv1.HeadersAuth{SecretRef: mcpv1.LocalObjectReference{Name: "someones-token"}}}))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretNotFound))

		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "someones-token",
				Labels: map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue}},
			Type:       mcpv1.SecretTypeUserToken,
			StringData: map[string]string{"Access_token": "user-access-t0ken"},
		})).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionAuthConfigured, metav1.ConditionFalse, mcpv1.ReasonSecretTypeNotAllowed))
		Expect(condition(get(key)(Default), mcpv1.ConditionAuthConfigured).Message).To(And(
			ContainSubstring("Secret "+ns+"/someones-token referenced by spec.auth.headers.secretRef is of type mcpoperator.io/user-token"),
			Not(ContainSubstring("user-access-t0ken")),
		))
		Expect(get(key)(Default)).To(haveCondition(mcpv1.ConditionReachable, metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped))
		Consistently(seen.carried, "2s").Should(BeFalse(), "a request carried a user's access token")
		Expect(seen.requests()).To(BeZero())
	})

	It("says so when a server is disabled, and does not probe it", func() {
		ns := newNamespace()
		s := fixture.MCPServer(ns, "off", "http://127.0.0.1:1/mcp", fixture.Disabled())
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		Eventually(get(client.ObjectKeyFromObject(s))).Should(And(
			haveCondition(mcpv1.ConditionReady, metav1.ConditionFalse, mcpv1.ReasonDisabled),
			haveCondition(mcpv1.ConditionReachable, metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped),
		))
		_, present := readinessMetric(ns, "off")
		Expect(present).To(BeFalse(), "a disabled server has no readiness series: it is not expected to be Ready")
	})

	It("makes a healthy server Ready while five others hang without answering", func() {
		// Five servers on a port that accepts connections and never answers.
		silent, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		var mu sync.Mutex
		var conns []net.Conn
		DeferCleanup(func() {
			_ = silent.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
		go func() {
			for {
				conn, err := silent.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
		}()
		ns := newNamespace()
		for i := range 5 {
			Expect(k8sClient.Create(ctx, fixture.MCPServer(ns, fmt.Sprintf("silent-%d", i), "http://"+silent.Addr().String()+"/mcp"))).To(Succeed())
		}
		mcp := mcptest.NewServer("", "")
		DeferCleanup(mcp.Close)
		healthy := fixture.MCPServer(ns, "healthy", mcp.URL)
		Expect(k8sClient.Create(ctx, healthy)).To(Succeed())
		// Well under one probe timeout (20 s) per silent server ahead of it.
		Eventually(get(client.ObjectKeyFromObject(healthy)), 15*time.Second).Should(
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))
	})

	It("reports an unreachable server as False with the URL", func() {
		ns := newNamespace()
		s := fixture.MCPServer(ns, "down", "http://127.0.0.1:1/mcp")
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionFalse, mcpv1.ReasonUnreachable))
		Expect(condition(get(key)(Default), mcpv1.ConditionReachable).Message).To(ContainSubstring("http://127.0.0.1:1/mcp"))
	})

	It("keeps spec.url's query (an API key) out of status, events and logs", func() {
		ns := newNamespace()
		const apiKey = "sekrit-key-in-query"
		s := fixture.MCPServer(ns, "keyed-url", "http://127.0.0.1:1/mcp?key="+apiKey)
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionFalse, mcpv1.ReasonUnreachable))
		Eventually(warningEvents(ns, mcpv1.ReasonUnreachable)).ShouldNot(BeEmpty())

		got := get(key)(Default)
		Expect(condition(got, mcpv1.ConditionReachable).Message).To(ContainSubstring("http://127.0.0.1:1/mcp"))
		status, err := json.Marshal(got.Status)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(status)).NotTo(ContainSubstring(apiKey))
		list := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		for _, e := range list.Items {
			Expect(e.Note).NotTo(ContainSubstring(apiKey), "event %s", e.Reason)
		}
		Expect(string(suiteLogs.Contents())).NotTo(ContainSubstring(apiKey))
	})

	It("writes the status of a server that lists a tool name longer than the schema allows", func() {
		long := strings.Repeat("t", 200)
		mcp := mcptest.NewServer("", "", "greet", long)
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "long-tool", mcp.URL)
		Expect(k8sClient.Create(ctx, s)).To(Succeed())

		Eventually(get(client.ObjectKeyFromObject(s))).Should(And(
			haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady),
			HaveField("Status.Tools", HaveLen(2)),
		))
		for _, name := range get(client.ObjectKeyFromObject(s))(Default).Status.Tools {
			Expect(utf8.RuneCountInString(name)).To(BeNumerically("<=", mcpv1.MaxToolNameLength))
		}
	})

	It("writes nothing on a second reconcile when nothing changed", func() {
		mcp := mcptest.NewServer("", "")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "steady", mcp.URL)
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))

		var writes atomic.Int32
		count := func() { writes.Add(1) }
		counting := interceptor.NewClient(k8sClient, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
				count()
				return c.Create(ctx, o, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
				count()
				return c.Update(ctx, o, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
				count()
				return c.Patch(ctx, o, p, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
				count()
				return c.Delete(ctx, o, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, o client.Object, opts ...client.SubResourceUpdateOption) error {
				count()
				return c.SubResource(sub).Update(ctx, o, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				count()
				return c.SubResource(sub).Patch(ctx, o, p, opts...)
			},
		})
		cfg := testConfig()
		r := &mcpserver.Reconciler{Client: counting, APIReader: k8sClient, HTTPClient: cfg.HTTPClient}
		for range 2 {
			_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(writes.Load()).To(BeZero())
	})

	It("reports Stalled while a referenced Secret is missing, and neither Stalled nor Reconciling once Ready", func() {
		mcp := mcptest.NewServer("X-API-Key", "k")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "waiting", mcp.URL, fixture.WithAPIKey("X-API-Key", "later", "key"))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionStalled, metav1.ConditionTrue, mcpv1.ReasonSecretNotFound))
		Expect(condition(get(key)(Default), mcpv1.ConditionReconciling)).To(BeNil())

		Expect(k8sClient.Create(ctx, fixture.CredentialSecret(ns, "later", map[string]string{"key": "k"}))).To(Succeed())
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))
		got := get(key)(Default)
		Expect(condition(got, mcpv1.ConditionStalled)).To(BeNil())
		Expect(condition(got, mcpv1.ConditionReconciling)).To(BeNil())
	})

	It("reads no Secret from the API server to reconcile a server that never was OAuth2", func() {
		mcp := mcptest.NewServer("", "")
		DeferCleanup(mcp.Close)
		ns := newNamespace()
		s := fixture.MCPServer(ns, "plain", mcp.URL)
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		key := client.ObjectKeyFromObject(s)
		Eventually(get(key)).Should(haveCondition(mcpv1.ConditionReady, metav1.ConditionTrue, mcpv1.ReasonReady))

		var secretReads atomic.Int32
		live := interceptor.NewClient(k8sClient, interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, o client.Object, opts ...client.GetOption) error {
				if _, ok := o.(*corev1.Secret); ok {
					secretReads.Add(1)
				}
				return c.Get(ctx, k, o, opts...)
			},
		})
		cfg := testConfig()
		// The manager's metadata cache stands in as a metadata read here.
		r := &mcpserver.Reconciler{Client: k8sClient, APIReader: live, SecretMetadata: k8sClient, HTTPClient: cfg.HTTPClient}
		for range 3 {
			_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(secretReads.Load()).To(BeZero())
	})
})

// headerRecord is what a recording MCP server saw.
type headerRecord struct {
	n   atomic.Int64
	hit atomic.Bool
}

// requests is how many requests arrived.
func (h *headerRecord) requests() int64 { return h.n.Load() }

// carried reports whether any request carried the value in any header.
func (h *headerRecord) carried() bool { return h.hit.Load() }

// recordingMCPServer is an MCP server guarded by header=value that records
// whether value ever arrived, in any header of any request.
func recordingMCPServer(header, value string) (*httptest.Server, *headerRecord) {
	backend := mcptest.NewServer(header, value)
	DeferCleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	Expect(err).NotTo(HaveOccurred())
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := &headerRecord{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.n.Add(1)
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, value) {
					rec.hit.Store(true)
				}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	DeferCleanup(front.Close)
	return front, rec
}
