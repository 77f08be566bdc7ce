// Package controllers wires mcp-operator's controllers into a manager:
// every controller, cache and client option is set up here.
package controllers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/mcpserver"
	"github.com/mcp-operator/mcp-operator/controllers/tokenrefresh"
)

// Config is what the manager binary decides for the controllers.
type Config struct {
	HTTPClient     *http.Client
	ResyncInterval time.Duration
	// CallbackURL is the callback server's public base URL.
	CallbackURL string
	// RediscoveryInterval is how often OAuth2 servers are discovered again
	// (jittered); 0 means 24 h.
	RediscoveryInterval time.Duration
	// Clock schedules token refreshes and dates discoveries; nil means the
	// real clock.
	Clock clock.WithTicker
	// MCPServerWorkers is how many MCPServers are reconciled at once; 0
	// means mcpserver.DefaultWorkers.
	MCPServerWorkers int
	// WatchNamespaces limits the operator to these namespaces (the same
	// list CacheOptions was given); empty means the whole cluster.
	WatchNamespaces []string
}

// ClientOptions are the manager's client settings. Secrets are read straight
// from the API server: the operator never caches every Secret in the cluster.
// Tests use the same options as production.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// CacheOptions are the manager's cache settings. Every cached object loses
// its managedFields and kubectl's last-applied-configuration annotation: the
// metadata-only watch on Secrets sees every Secret in the cluster, and for a
// Secret created with kubectl apply that annotation holds its data. That
// watch leaves out users' token Secrets, the bulk of a large install: the
// MCPServer controller never acts on them, and the refresher keeps their
// metadata in a cache of its own (tokenrefresh.NewTokenCache). With
// namespaces, the cache watches only those (a namespace-scoped install,
// whose RBAC grants nothing elsewhere).
func CacheOptions(namespaces ...string) cache.Options {
	secretMeta := &metav1.PartialObjectMetadata{}
	secretMeta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return cache.Options{
		DefaultTransform:  stripCachedMetadata,
		DefaultNamespaces: namespaceConfigs(namespaces),
		ByObject: map[client.Object]cache.ByObject{
			// By the label every token Secret the operator writes carries;
			// a look-alike without it (say, one an MCPServer references)
			// still wakes its MCPServers.
			secretMeta: {Label: notTokenSecret},
		},
	}
}

// notTokenSecret selects Secrets without the user-hash label of token Secrets.
var notTokenSecret = func() labels.Selector {
	req, err := labels.NewRequirement(mcpv1.LabelUserHash, selection.DoesNotExist, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// namespaceConfigs is cache.Options.DefaultNamespaces for namespaces; nil
// (every namespace) when there are none.
func namespaceConfigs(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	m := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		m[ns] = cache.Config{}
	}
	return m
}

func stripCachedMetadata(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a[corev1.LastAppliedConfigAnnotation] != "" {
			delete(a, corev1.LastAppliedConfigAnnotation)
			m.SetAnnotations(a)
		}
	}
	return obj, nil
}

// SetupWithManager registers every controller of the operator: the
// MCPServer reconciler, the token refresher and the connected-users counter.
// The last two share one cache that holds only the metadata of the
// operator's token Secrets; they read the data of the Secrets they trust
// from the API server.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, cfg Config) error {
	tokens, err := tokenrefresh.NewTokenCache(mgr, namespaceConfigs(cfg.WatchNamespaces))
	if err != nil {
		return fmt.Errorf("creating the token Secret cache: %w", err)
	}
	if err := mgr.Add(tokens); err != nil {
		return fmt.Errorf("adding the token Secret cache to the manager: %w", err)
	}
	if err := (&tokenrefresh.Refresher{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		SecretMetadata: mgr.GetCache(),
		Recorder:       mgr.GetEventRecorder("mcp-operator-refresher"),
		HTTPClient:     cfg.HTTPClient,
		Clock:          cfg.Clock,
	}).SetupWithManager(mgr, tokens); err != nil {
		return err
	}
	if err := (&tokenrefresh.ConnectedUsers{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: cfg.Clock}).SetupWithManager(mgr, tokens); err != nil {
		return fmt.Errorf("creating the connected-users counter: %w", err)
	}
	return (&mcpserver.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		SecretMetadata:          mgr.GetCache(),
		Recorder:                mgr.GetEventRecorder("mcp-operator"),
		HTTPClient:              cfg.HTTPClient,
		ResyncInterval:          cfg.ResyncInterval,
		CallbackURL:             cfg.CallbackURL,
		RediscoveryInterval:     cfg.RediscoveryInterval,
		Clock:                   cfg.Clock,
		MaxConcurrentReconciles: cfg.MCPServerWorkers,
	}).SetupWithManager(ctx, mgr)
}
