package tokenrefresh

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// ConnectedUsers keeps status.connectedUsers of each MCPServer equal to the
// number of its usable token Secrets (tokensecret's Record.Usable, the rule
// /connections and mcpauth.GetToken apply too). It is keyed by server and
// woken, after a debounce, only when a token Secret appears, goes or changes
// when it is usable, so routine refreshes cost no status writes; and when a
// counted token stops being usable by itself (its access token expires
// without a refresh token).
type ConnectedUsers struct {
	// Client reads MCPServers and patches their status.
	Client client.Client
	// Debounce delays a recount after a change so bursts collapse into one
	// status write; default 2s.
	Debounce time.Duration
	// Clock tells when a token stops being usable; nil means the real clock.
	Clock clock.Clock

	tokens client.Reader // the token Secret cache
}

// Reconcile recounts one server's usable tokens and writes the count with a
// merge patch that touches only status.connectedUsers; the MCPServer
// reconciler patches the rest of status with diffs, so neither clobbers
// the other. It asks to run again when the first counted token stops being
// usable.
func (r *ConnectedUsers) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	server := &mcpv1.MCPServer{}
	if err := r.Client.Get(ctx, req.NamespacedName, server); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	secrets := &corev1.SecretList{}
	if err := r.tokens.List(ctx, secrets, client.InNamespace(req.Namespace),
		client.MatchingLabels{mcpv1.LabelServer: req.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing token Secrets of MCPServer %s: %w", req, err)
	}
	now := r.Clock.Now()
	var n int32
	var next time.Time // the earliest end of a counted token's usability
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if s.Type != mcpv1.SecretTypeUserToken {
			continue
		}
		rec := tokensecret.Read(s)
		if !rec.Usable(now) {
			continue
		}
		n++
		if until, _ := rec.UsableUntil(); !until.IsZero() && (next.IsZero() || until.Before(next)) {
			next = until
		}
	}
	var result ctrl.Result
	if !next.IsZero() {
		result.RequeueAfter = next.Sub(now)
	}
	if server.Status.ConnectedUsers == n {
		return result, nil
	}
	patch := client.MergeFrom(server.DeepCopy())
	server.Status.ConnectedUsers = n
	if err := r.Client.Status().Patch(ctx, server, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing status.connectedUsers of MCPServer %s: %w", req, client.IgnoreNotFound(err))
	}
	return result, nil
}

// SetupWithManager registers the counter, woken by the token Secret cache.
func (r *ConnectedUsers) SetupWithManager(mgr ctrl.Manager, tokenCache cache.Cache) error {
	r.tokens = tokenCache
	if r.Debounce <= 0 {
		r.Debounce = defaultDebounce
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("connectedusers").
		WatchesRawSource(source.Kind(tokenCache, &corev1.Secret{}, r.serverHandler(), isUserToken)).
		Complete(r)
}

// serverHandler maps token Secret events to their server, delayed by the
// debounce so a burst of changes is counted once.
func (r *ConnectedUsers) serverHandler() handler.TypedEventHandler[*corev1.Secret, reconcile.Request] {
	enqueue := func(s *corev1.Secret, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if server := s.Labels[mcpv1.LabelServer]; server != "" {
			q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: s.Namespace, Name: server}}, r.Debounce)
		}
	}
	return handler.TypedFuncs[*corev1.Secret, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*corev1.Secret], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*corev1.Secret], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			oldUntil, oldOK := tokensecret.Read(e.ObjectOld).UsableUntil()
			newUntil, newOK := tokensecret.Read(e.ObjectNew).UsableUntil()
			if oldOK != newOK || !oldUntil.Equal(newUntil) {
				enqueue(e.ObjectNew, q)
			}
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*corev1.Secret], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}
