package tokenrefresh

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// NewTokenCache is a cache of the metadata of our token Secrets only:
// label managed-by mcp-operator and type mcpoperator.io/user-token. It
// never holds a Secret's data: anyone who can create Secrets could make
// look-alikes of any size with that label and type. The refresher and the
// counter read the data of a Secret they trust (tokensecret.ControlledBy)
// straight from the API server when they act on it.
//
// Each cached object keeps only what deciding trust takes (name, UID,
// resourceVersion, our labels, the controller reference), so a look-alike
// costs the same few hundred bytes however large its annotations are. A
// read of a full Secret through the cache fails (ReaderFailOnMissingInformer)
// instead of quietly starting an informer that would cache data.
//
// It is a cache of its own rather than a label selector on Secrets in the
// manager's cache: the manager's cache keys its settings by GVK, so such a
// selector would also restrict the MCPServer controller's metadata watch on
// Secrets, which must see the unlabelled Secrets users reference.
//
// namespaces limits it as cache.Options.DefaultNamespaces does (nil: the
// whole cluster).
func NewTokenCache(mgr ctrl.Manager, namespaces map[string]cache.Config) (cache.Cache, error) {
	return cache.New(mgr.GetConfig(), cache.Options{
		DefaultNamespaces:           namespaces,
		HTTPClient:                  mgr.GetHTTPClient(),
		Scheme:                      mgr.GetScheme(),
		Mapper:                      mgr.GetRESTMapper(),
		ReaderFailOnMissingInformer: true,
		ByObject: map[client.Object]cache.ByObject{
			newTokenMeta(): {
				Label:     labels.SelectorFromSet(labels.Set{mcpv1.LabelManagedBy: mcpv1.ManagedByValue}),
				Field:     fields.OneTermEqualSelector("type", string(mcpv1.SecretTypeUserToken)),
				Transform: keepTrustMetadata,
			},
		},
	})
}

// secretGVK is the kind of the metadata objects the token cache holds.
var secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")

// newTokenMeta is an empty token Secret metadata object for the token cache.
func newTokenMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	return m
}

// newTokenMetaList is an empty list of token Secret metadata.
func newTokenMetaList() *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	return l
}

// keptLabels are the labels of a token Secret the cache keeps.
var keptLabels = []string{mcpv1.LabelManagedBy, mcpv1.LabelServer, mcpv1.LabelUserHash}

// keepTrustMetadata strips a cached token Secret's metadata down to what
// tokensecret.ControlledBy and the event handlers read.
func keepTrustMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	kept := map[string]string{}
	for _, k := range keptLabels {
		if v, ok := m.Labels[k]; ok {
			kept[k] = v
		}
	}
	var refs []metav1.OwnerReference
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		refs = []metav1.OwnerReference{*ref}
	}
	m.ObjectMeta = metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp,
		Labels:            kept,
		OwnerReferences:   refs,
	}
	return m, nil
}

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
		WatchesRawSource(source.Kind(tokenCache, newTokenMeta(),
			&handler.TypedEnqueueRequestForObject[*metav1.PartialObjectMetadata]{})).
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
