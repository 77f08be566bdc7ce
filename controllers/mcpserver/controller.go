// Package mcpserver holds the MCPServer reconciler: it resolves an
// MCPServer's credentials, probes the server and reports both in status.
package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// Reconciler resolves an MCPServer's credentials, probes the server
// and reports both in status.
type Reconciler struct {
	client.Client
	// APIReader reads user-referenced Secrets straight from the API server,
	// so the operator never caches every Secret in the cluster.
	APIReader client.Reader
	// SecretMetadata reads Secrets' metadata from the manager's cache (the
	// metadata-only watch), to skip live reads of Secrets that do not
	// exist; nil means every read is live.
	SecretMetadata client.Reader
	Recorder       recorder.EventRecorder
	// HTTPClient is the egress-guarded client for every outbound call.
	HTTPClient *http.Client
	// ResyncInterval is how often a healthy server is probed again.
	ResyncInterval time.Duration
	// CallbackURL is the callback server's public base URL; OAuth2 redirect
	// URIs and Client ID Metadata Document URLs are derived from it.
	CallbackURL string
	// RediscoveryInterval is how often an OAuth2 server's authorization
	// server is discovered again (jittered); 0 means 24 h.
	RediscoveryInterval time.Duration
	// Clock tells the time of discovery and deletion; nil means the real clock.
	Clock clock.PassiveClock
	// MaxConcurrentReconciles is the number of MCPServers reconciled at
	// once; default DefaultWorkers. Reconciles mostly wait on remote
	// servers, so one slow server must not hold up the others.
	MaxConcurrentReconciles int

	hosts hostBackoff
	// trusted holds the clients of servers with their own CA bundle.
	trusted oauth.TrustedClients
	// discoverer shares authorization server metadata between the servers
	// that name the same issuer (one fetch per oauth.DefaultMetadataTTL).
	discoverer oauth.Discoverer
}

// DefaultWorkers is the default MaxConcurrentReconciles: enough that
// hundreds of servers, a few of them slow, are all probed promptly.
const DefaultWorkers = 32

// reconcileTimeout bounds one reconcile: discovery alone may make several
// sequential requests, and a server that never answers must not hold a
// worker longer than this.
const reconcileTimeout = time.Minute

// statusWriteTimeout bounds the status write that ends every reconcile.
const statusWriteTimeout = 30 * time.Second

// serverScope carries what one reconcile learns from step to step.
type serverScope struct {
	server *mcpv1.MCPServer
	// headers are the resolved static credentials sent when probing.
	headers http.Header
	// http is the client for every outbound call about the server, with
	// spec.caBundleRef's roots, and caBundle that bundle's PEM (both set by
	// reconcileCredentials).
	http     *http.Client
	caBundle []byte
	// learned is what the steps found out; status.go turns it into conditions.
	learned learned
}

// step is one named phase of a reconcile; each owns one condition.
type step func(ctx context.Context, s *serverScope) (ctrl.Result, error)

// +kubebuilder:rbac:groups=mcpoperator.io,resources=mcpservers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=mcpoperator.io,resources=mcpservers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=mcpoperator.io,resources=mcpservers/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one MCPServer's status in line with the world.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ctx = logsafe.WithoutBodyDumps(ctx)
	server := &mcpv1.MCPServer{}
	if err := r.Get(ctx, req.NamespacedName, server); err != nil {
		if apierrors.IsNotFound(err) {
			forgetReadiness(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	if !server.DeletionTimestamp.IsZero() {
		forgetReadiness(req.NamespacedName)
		return r.reconcileDelete(ctx, server)
	}
	if !controllerutil.ContainsFinalizer(server, mcpv1.Finalizer) {
		patch := client.MergeFrom(server.DeepCopy())
		controllerutil.AddFinalizer(server, mcpv1.Finalizer)
		if err := r.Patch(ctx, server, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to MCPServer %s: %w", req, err)
		}
	}

	original := server.DeepCopy()
	s := &serverScope{server: server, headers: http.Header{}, http: r.HTTPClient}
	defer func() {
		// The status is written even when the steps ran out of time.
		statusCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
		defer cancel()
		if err := r.writeStatus(statusCtx, original, s, retErr == nil); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()
	return runSteps(ctx, s,
		r.reconcileOAuth2Removal,
		r.reconcileCredentials,
		r.reconcileReachability,
	)
}

// runSteps runs steps in order, stops at the first error and returns the
// soonest requeue any step asked for.
func runSteps(ctx context.Context, s *serverScope, steps ...step) (ctrl.Result, error) {
	var result ctrl.Result
	for _, st := range steps {
		res, err := st(ctx, s)
		if err != nil {
			return res, err
		}
		if res.RequeueAfter > 0 && (result.RequeueAfter == 0 || res.RequeueAfter < result.RequeueAfter) {
			result.RequeueAfter = res.RequeueAfter
		}
	}
	return result, nil
}

// reconcileDelete cleans up behind the finalizer, then releases it.
func (r *Reconciler) reconcileDelete(ctx context.Context, server *mcpv1.MCPServer) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(server, mcpv1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if err := r.cleanUpOnDelete(ctx, server); err != nil {
		return ctrl.Result{}, err
	}
	patch := client.MergeFrom(server.DeepCopy())
	controllerutil.RemoveFinalizer(server, mcpv1.Finalizer)
	if err := r.Patch(ctx, server, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing finalizer from MCPServer %s/%s: %w", server.Namespace, server.Name, err)
	}
	return ctrl.Result{}, nil
}

// writeStatus computes the conditions from what the steps learned, emits
// an event per condition transition and patches status only when something
// changed.
func (r *Reconciler) writeStatus(ctx context.Context, original *mcpv1.MCPServer, s *serverScope, succeeded bool) error {
	server := s.server
	applyStatus(server, s.learned, succeeded)
	recordReadiness(server)
	if equality.Semantic.DeepEqual(original.Status, server.Status) {
		return nil
	}
	for _, t := range transitions(original, server) {
		r.event(server, t.eventType, t.reason, t.action, t.note)
	}
	if err := r.Status().Patch(ctx, server, client.MergeFrom(original)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("writing status of MCPServer %s/%s: %w", server.Namespace, server.Name, err)
	}
	return nil
}

func (r *Reconciler) workers() int {
	if r.MaxConcurrentReconciles > 0 {
		return r.MaxConcurrentReconciles
	}
	return DefaultWorkers
}

// now is the reconciler's clock reading.
func (r *Reconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// SetupWithManager registers the controller, its index and its watches.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	r.discoverer.Now = r.now
	if err := mgr.GetFieldIndexer().IndexField(ctx, &mcpv1.MCPServer{}, secretRefIndex, indexSecretRefs); err != nil {
		return fmt.Errorf("indexing MCPServers by referenced Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&mcpv1.MCPServer{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.AnnotationChangedPredicate{},
		))).
		// Metadata only: a Secret's name and owner are enough to find the
		// MCPServers that care, and no Secret data is cached.
		WatchesMetadata(&corev1.Secret{}, r.secretHandler()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.workers()}).
		Named("mcpserver").
		Complete(r)
}
