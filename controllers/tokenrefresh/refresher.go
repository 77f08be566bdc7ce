// Package tokenrefresh keeps users' token Secrets fresh: the refresher
// redeems each refresh token once, ahead of expiry, and the connected-users
// counter reports in each MCPServer's status how many users hold a usable
// token.
package tokenrefresh

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// Refresher keeps every per-user token Secret fresh. It redeems each
// refresh token at most once: it is leader-elected (one refresher per
// cluster), the workqueue never runs one Secret twice at a time, it confirms
// a token is due on a live read before redeeming it, and it persists the
// result with a resourceVersion precondition on a context that the
// reconcile's cancellation cannot drop.
type Refresher struct {
	// Client writes token Secrets and MCPServer annotations and status, and
	// reads MCPServers from the manager's cache.
	Client client.Client
	// APIReader reads live objects: every token Secret's data (the token
	// cache holds metadata only), a token Secret after a write conflict, and
	// the client Secret when it changed.
	APIReader client.Reader
	// SecretMetadata reads Secrets' metadata from the manager's cache (its
	// metadata-only watch of Secrets): a client Secret's resourceVersion
	// tells whether the configuration built from it is still current. nil:
	// the client Secret is read at every refresh.
	SecretMetadata client.Reader
	Recorder       recorder.EventRecorder
	// HTTPClient is the egress-guarded client for the token endpoint.
	HTTPClient *http.Client
	// Clock schedules refreshes; tests inject a fake one. It also drives the
	// controller's workqueue, so a fake clock's Step fires due requeues.
	Clock clock.WithTicker
	// OpTimeout bounds one redemption plus the write of its result; default 30s.
	OpTimeout time.Duration
	// MaxConcurrentReconciles is the number of parallel refreshes; default 8.
	MaxConcurrentReconciles int

	tokens    client.Reader        // the token Secret metadata cache (NewTokenCache)
	trusted   oauth.TrustedClients // clients of servers with their own CA bundle
	states    stateTracker
	untrusted untrustedTracker
	pending   pendingStore
	configs   configCache
}

// Defaults of the Refresher's and ConnectedUsers' tunables.
const (
	defaultOpTimeout = 30 * time.Second
	defaultWorkers   = 8
	defaultDebounce  = 2 * time.Second
)

// action is what a token Secret needs now.
type action int

const (
	actNone    action = iota // nothing, ever (terminal state or nothing to refresh)
	actWait                  // look again after the returned duration
	actRefresh               // redeem the refresh token now
	actExpire                // no refresh token and the access token expired
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=mcpoperator.io,resources=mcpservers,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=mcpoperator.io,resources=mcpservers/status,verbs=get;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile refreshes one token Secret when it is due and otherwise asks
// to be woken when it will be. It acts only on a Secret its MCPServer
// controls (tokensecret.ControlledBy), judged first on the cached metadata,
// so a look-alike's data is never read, and again on the live copy it reads
// the tokens from.
func (r *Refresher) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Token Secrets are read and written here: keep client-go's body dumps out of the logs.
	ctx = logsafe.WithoutBodyDumps(ctx)
	key := req.NamespacedName
	meta := newTokenMeta()
	if err := r.tokens.Get(ctx, key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(key)
			r.pending.drop(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading token Secret %s: %w", req, err)
	}
	server, err := r.controllingServer(ctx, meta)
	if err != nil {
		return ctrl.Result{}, err
	}
	if server == nil {
		return r.skipUntrusted(ctx, key)
	}

	// The data is read live, never cached: this also means a decision is
	// never taken on a copy older than our own last write, so an
	// already-redeemed refresh token is never sent twice.
	live := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading token Secret %s: %w", req, err)
	}
	if live.Type != mcpv1.SecretTypeUserToken || !tokensecret.ControlledBy(live, server) {
		return r.skipUntrusted(ctx, key)
	}
	r.untrusted.forget(key)
	rec := tokensecret.Read(live)
	r.states.set(key, rec.State)
	now := r.Clock.Now()
	act, wait := r.decide(live, rec, now)
	switch act {
	case actRefresh:
		return r.refresh(ctx, live, rec, now)
	case actExpire:
		return r.expire(ctx, live, rec)
	}
	return resultFor(act, wait), r.noteFloor(ctx, live, rec)
}

// controllingServer is the MCPServer named in the Secret's server label
// when it controls the Secret, else nil.
func (r *Refresher) controllingServer(ctx context.Context, meta *metav1.PartialObjectMetadata) (*mcpv1.MCPServer, error) {
	name := meta.Labels[mcpv1.LabelServer]
	if name == "" {
		return nil, nil
	}
	server := &mcpv1.MCPServer{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: meta.Namespace, Name: name}, server); err != nil {
		return nil, client.IgnoreNotFound(fmt.Errorf("reading MCPServer %s/%s of token Secret %s: %w", meta.Namespace, name, meta.Name, err))
	}
	if !tokensecret.ControlledBy(meta, server) {
		return nil, nil
	}
	return server, nil
}

// skipUntrusted leaves alone a Secret that looks like a token Secret but
// that the MCPServer named in its label does not control: its refresh token
// is not redeemed, and it is not counted. A change to its metadata (an
// owner reference set) wakes the refresher again.
func (r *Refresher) skipUntrusted(ctx context.Context, key types.NamespacedName) (ctrl.Result, error) {
	r.states.forget(key)
	if r.untrusted.add(key) {
		ctrl.LoggerFrom(ctx).V(1).Info("Skipping a Secret with the token Secret's labels and type that its MCPServer does not control", "secret", key)
	}
	return ctrl.Result{}, nil
}

// forget drops what the refresher remembers of a deleted Secret.
func (r *Refresher) forget(key types.NamespacedName) {
	r.states.forget(key)
	r.untrusted.forget(key)
}

// decide says what a token Secret needs at now, and for actWait how long
// until it needs something.
func (r *Refresher) decide(secret *corev1.Secret, rec tokensecret.Record, now time.Time) (action, time.Duration) {
	if r.pending.matches(client.ObjectKeyFromObject(secret), rec) {
		return actRefresh, 0 // redeemed already; only the write is outstanding
	}
	if rec.State != tokensecret.StateActive || rec.AccessToken == "" || rec.Expiry.IsZero() {
		return actNone, 0
	}
	if rec.RefreshToken == "" {
		if now.Before(rec.Expiry) {
			return actWait, rec.Expiry.Sub(now)
		}
		return actExpire, 0
	}
	if now.Before(rec.RefreshBackoffUntil) {
		return actWait, rec.RefreshBackoffUntil.Sub(now)
	}
	if due := r.due(secret, rec); now.Before(due) {
		return actWait, due.Sub(now)
	}
	return actRefresh, 0
}

// due is the token's scheduled refresh time, a pure function of the Secret
// so a restarted manager rebuilds the same schedule.
func (r *Refresher) due(secret *corev1.Secret, rec tokensecret.Record) time.Time {
	due, _ := r.schedule(secret, rec)
	return due
}

// schedule is due, and whether the floor (minRefreshInterval) set it.
func (r *Refresher) schedule(secret *corev1.Secret, rec tokensecret.Record) (time.Time, bool) {
	return dueAt(rec.IssuedAt, rec.Expiry, string(secret.UID)+"/"+rec.IssuedAt.UTC().Format(time.RFC3339))
}

// floorNote is the tokensecret.AnnotationRefreshFloored note the Secret's
// token calls for: why its refresh waits for the floor, or "" when it is on
// the normal schedule or not refreshed at all (decide schedules a refresh
// only for an Active token with an access token, a refresh token and an
// expiry).
func (r *Refresher) floorNote(secret *corev1.Secret, rec tokensecret.Record) string {
	if rec.State != tokensecret.StateActive || rec.AccessToken == "" || rec.RefreshToken == "" || rec.Expiry.IsZero() {
		return ""
	}
	if _, floored := r.schedule(secret, rec); !floored {
		return ""
	}
	return fmt.Sprintf("access token lifetime %s is too short for the refresh schedule: refreshed no sooner than %s after issue",
		rec.Expiry.Sub(rec.IssuedAt), minRefreshInterval)
}

// noteFloor keeps the Secret's floor note in step with its token. It
// writes only when the note changes (a new grant, or a new lifetime after a
// refresh), not on every refresh of a token that stays floored.
func (r *Refresher) noteFloor(ctx context.Context, secret *corev1.Secret, rec tokensecret.Record) error {
	if r.floorNote(secret, rec) == rec.RefreshFloored {
		return nil
	}
	_, err := r.writeSecret(ctx, secret, rec.GrantID, func(s *corev1.Secret) {
		tokensecret.ApplyRefreshFloored(s, r.floorNote(s, tokensecret.Read(s))) // from the copy written: it may be fresher
	})
	return err
}

func resultFor(act action, wait time.Duration) ctrl.Result {
	if act == actWait {
		return ctrl.Result{RequeueAfter: max(wait, time.Millisecond)}
	}
	return ctrl.Result{}
}

// expire marks a token without a refresh token as expired at its expiry.
func (r *Refresher) expire(ctx context.Context, live *corev1.Secret, rec tokensecret.Record) (ctrl.Result, error) {
	written, err := r.writeSecret(ctx, live, rec.GrantID, tokensecret.ApplyExpired)
	if err != nil || !written {
		return ctrl.Result{}, err
	}
	r.states.set(client.ObjectKeyFromObject(live), mcpauth.StateExpired)
	r.event(ctx, live, rec, corev1.EventTypeNormal, mcpv1.EventReasonTokenExpired,
		"The access token of user %s expired and there is no refresh token; the user must connect again", userHashOf(live))
	return ctrl.Result{}, nil
}

func userHashOf(s *corev1.Secret) string { return s.Labels[mcpv1.LabelUserHash] }

func (r *Refresher) opTimeout() time.Duration {
	if r.OpTimeout > 0 {
		return r.OpTimeout
	}
	return defaultOpTimeout
}
