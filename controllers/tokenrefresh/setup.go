package tokenrefresh

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// NewTokenCache is a cache of our token Secrets only: label managed-by
// mcp-operator and type mcpoperator.io/user-token, managedFields dropped.
//
// It is a cache of its own rather than a label selector on Secrets in the
// manager's cache: the manager's cache keys its settings by GVK, so such a
// selector would also restrict the MCPServer controller's metadata watch on
// Secrets, which must see the unlabelled Secrets users reference.
func NewTokenCache(mgr ctrl.Manager) (cache.Cache, error) {
	return cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(),
		Scheme:     mgr.GetScheme(),
		Mapper:     mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Label:     labels.SelectorFromSet(labels.Set{mcpv1.LabelManagedBy: mcpv1.ManagedByValue}),
				Field:     fields.OneTermEqualSelector("type", string(mcpv1.SecretTypeUserToken)),
				Transform: cache.TransformStripManagedFields(),
			},
		},
	})
}

// isUserToken filters the token cache's events to user-token Secrets (the
// cache's field selector does already; this guards against a misconfiguration).
var isUserToken = predicate.NewTypedPredicateFuncs(func(s *corev1.Secret) bool {
	return s.Type == mcpv1.SecretTypeUserToken
})

// SetupWithManager registers the refresher, woken by the token Secret
// cache. It is leader-elected like every controller, so one refresher runs
// per cluster.
func (r *Refresher) SetupWithManager(mgr ctrl.Manager, tokenCache cache.Cache) error {
	if r.HTTPClient == nil {
		return errors.New("token refresher: HTTPClient is required")
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.tokens = tokenCache
	workers := r.MaxConcurrentReconciles
	if workers <= 0 {
		workers = defaultWorkers
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("tokenrefresher").
		WatchesRawSource(source.Kind(tokenCache, &corev1.Secret{},
			&handler.TypedEnqueueRequestForObject[*corev1.Secret]{}, isUserToken)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, NewQueue: clockedQueue(r.Clock)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("creating the token refresher: %w", err)
	}
	return nil
}

// clockedQueue builds the workqueue on the refresher's clock, so that a
// RequeueAfter is measured on the same clock as the schedule.
func clockedQueue(c clock.WithTicker) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, rl workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		return workqueue.NewTypedRateLimitingQueueWithConfig(rl, workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{
			Name:  name,
			Clock: c,
		})
	}
}
