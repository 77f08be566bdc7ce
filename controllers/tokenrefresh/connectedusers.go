package tokenrefresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// ConnectedUsers keeps status.connectedUsers of each MCPServer equal to the
// number of its usable token Secrets (tokensecret's Record.Usable, the rule
// /connections and mcpauth.GetToken apply too), counting only the Secrets
// the server controls (tokensecret.ControlledBy). It is keyed by server and
// woken, after a debounce, when one of its token Secrets appears, goes or
// changes, and when a counted token stops being usable by itself (its access
// token expires without a refresh token). The token cache holds metadata
// only: what each Secret's data says is read live once per resourceVersion
// and remembered, so a recount after one refresh reads one Secret.
type ConnectedUsers struct {
	// Client reads MCPServers and patches their status.
	Client client.Client
	// APIReader reads the data of the token Secrets a server controls.
	APIReader client.Reader
	// Debounce delays a recount after a change so bursts collapse into one
	// status write; default 2s.
	Debounce time.Duration
	// Clock tells when a token stops being usable; nil means the real clock.
	Clock clock.Clock

	tokens client.Reader // the token Secret metadata cache

	mu sync.Mutex
	// seen is, per server, what the data of each of its token Secrets said
	// at the resourceVersion it was read at.
	seen map[types.NamespacedName]map[string]usability
}

// usability is what a token Secret's data says about its user being
// connected (tokensecret's Record.UsableUntil) at one resourceVersion.
type usability struct {
	resourceVersion string
	ok              bool
	until           time.Time
}

// Reconcile recounts one server's usable tokens and writes the count with a
// merge patch that touches only status.connectedUsers; the MCPServer
// reconciler patches the rest of status with diffs, so neither clobbers
// the other. It asks to run again when the first counted token stops being
// usable.
func (r *ConnectedUsers) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx = logsafe.WithoutBodyDumps(ctx)
	server := &mcpv1.MCPServer{}
	if err := r.Client.Get(ctx, req.NamespacedName, server); err != nil {
		if apierrors.IsNotFound(err) {
			r.remember(req.NamespacedName, nil)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	metas := newTokenMetaList()
	if err := r.tokens.List(ctx, metas, client.InNamespace(req.Namespace),
		client.MatchingLabels{mcpv1.LabelServer: req.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing token Secrets of MCPServer %s: %w", req, err)
	}
	before := r.recall(req.NamespacedName)
	seen := map[string]usability{}
	now := r.Clock.Now()
	var n int32
	var next time.Time // the earliest end of a counted token's usability
	for i := range metas.Items {
		m := &metas.Items[i]
		if !tokensecret.ControlledBy(m, server) {
			continue
		}
		u, ok := before[m.Name]
		if !ok || u.resourceVersion != m.ResourceVersion {
			var err error
			if u, ok, err = r.read(ctx, client.ObjectKeyFromObject(m), server); err != nil {
				return ctrl.Result{}, err
			}
			if !ok {
				continue
			}
		}
		seen[m.Name] = u
		if !tokensecret.UsableAt(u.until, u.ok, now) {
			continue
		}
		n++
		if !u.until.IsZero() && (next.IsZero() || u.until.Before(next)) {
			next = u.until
		}
	}
	r.remember(req.NamespacedName, seen)
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

// read reads a token Secret's data live; found is false when it is gone or
// its live copy is not one server controls.
func (r *ConnectedUsers) read(ctx context.Context, key client.ObjectKey, server *mcpv1.MCPServer) (u usability, found bool, err error) {
	s := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, s); err != nil {
		if apierrors.IsNotFound(err) {
			return usability{}, false, nil
		}
		return usability{}, false, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	if s.Type != mcpv1.SecretTypeUserToken || !tokensecret.ControlledBy(s, server) {
		return usability{}, false, nil
	}
	until, ok := tokensecret.Read(s).UsableUntil()
	return usability{resourceVersion: s.ResourceVersion, ok: ok, until: until}, true, nil
}

func (r *ConnectedUsers) recall(server types.NamespacedName) map[string]usability {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[server]
}

// remember replaces what is known of server's Secrets; nil forgets it.
func (r *ConnectedUsers) remember(server types.NamespacedName, seen map[string]usability) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seen == nil {
		delete(r.seen, server)
		return
	}
	if r.seen == nil {
		r.seen = map[types.NamespacedName]map[string]usability{}
	}
	r.seen[server] = seen
}

// SetupWithManager registers the counter, woken by the token Secret cache.
func (r *ConnectedUsers) SetupWithManager(mgr ctrl.Manager, tokenCache cache.Cache) error {
	if r.APIReader == nil {
		return errors.New("connected-users counter: APIReader is required")
	}
	r.tokens = tokenCache
	if r.Debounce <= 0 {
		r.Debounce = defaultDebounce
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("connectedusers").
		WatchesRawSource(source.Kind(tokenCache, newTokenMeta(), r.serverHandler())).
		Complete(r)
}

// serverHandler maps token Secret events to their server, delayed by the
// debounce so a burst of changes is counted once. Any write may change
// what the data says (the cache does not hold it), so every change counts;
// a resync (same resourceVersion) does not.
func (r *ConnectedUsers) serverHandler() handler.TypedEventHandler[*metav1.PartialObjectMetadata, reconcile.Request] {
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	enqueue := func(m *metav1.PartialObjectMetadata, q queue) {
		if server := m.Labels[mcpv1.LabelServer]; server != "" {
			q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: m.Namespace, Name: server}}, r.Debounce)
		}
	}
	return handler.TypedFuncs[*metav1.PartialObjectMetadata, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*metav1.PartialObjectMetadata], q queue) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*metav1.PartialObjectMetadata], q queue) {
			if e.ObjectOld.ResourceVersion != e.ObjectNew.ResourceVersion {
				enqueue(e.ObjectNew, q)
				if old := e.ObjectOld.Labels[mcpv1.LabelServer]; old != e.ObjectNew.Labels[mcpv1.LabelServer] {
					enqueue(e.ObjectOld, q)
				}
			}
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*metav1.PartialObjectMetadata], q queue) {
			enqueue(e.Object, q)
		},
	}
}
