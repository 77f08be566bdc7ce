package tokenrefresh

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// ConnectedUsers keeps status.connectedUsers of each MCPServer
// equal to the number of its usable token Secrets. It is keyed by server
// and woken, after a debounce, only when a token Secret appears, goes or
// changes usability, so routine refreshes cost no status writes.
type ConnectedUsers struct {
	// Client reads MCPServers and patches their status.
	Client client.Client
	// Debounce delays a recount after a change so bursts collapse into one
	// status write; default 2s.
	Debounce time.Duration

	tokens client.Reader // the token Secret cache
}

// Reconcile recounts one server's usable tokens and writes the count with a
// merge patch that touches only status.connectedUsers; the MCPServer
// reconciler patches the rest of status with diffs, so neither clobbers
// the other.
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
	var n int32
	for i := range secrets.Items {
		if s := &secrets.Items[i]; s.Type == mcpv1.SecretTypeUserToken && readTokenRecord(s).usable() {
			n++
		}
	}
	if server.Status.ConnectedUsers == n {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(server.DeepCopy())
	server.Status.ConnectedUsers = n
	if err := r.Client.Status().Patch(ctx, server, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing status.connectedUsers of MCPServer %s: %w", req, client.IgnoreNotFound(err))
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the counter, woken by the token Secret cache.
func (r *ConnectedUsers) SetupWithManager(mgr ctrl.Manager, tokenCache cache.Cache) error {
	r.tokens = tokenCache
	if r.Debounce <= 0 {
		r.Debounce = 2 * time.Second
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
			if readTokenRecord(e.ObjectOld).usable() != readTokenRecord(e.ObjectNew).usable() {
				enqueue(e.ObjectNew, q)
			}
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*corev1.Secret], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}
