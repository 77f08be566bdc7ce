package tokenrefresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/internal/event"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// maxWriteAttempts bounds the re-read-and-retry loop on write conflicts.
const maxWriteAttempts = 5

// refresh redeems the refresh token of live and persists the result.
//
// Both the token request and the write run on a context detached from the
// reconcile's: once the request is sent the server may have rotated the
// refresh token, and dropping its answer would leave only the spent one.
func (r *Refresher) refresh(ctx context.Context, live *corev1.Secret, rec tokensecret.Record, now time.Time) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(live)
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opTimeout())
	defer cancel()

	if p, ok := r.pending.get(key, rec); ok {
		return r.persist(opCtx, live, rec, p.token, p.tokenEndpoint, p.issuedAt)
	}
	server, cfg, err := r.flowConfig(ctx, live.Namespace, rec.Server)
	if server == nil || err != nil {
		return ctrl.Result{}, err
	}
	if cfg == nil {
		return r.transientFailure(ctx, live, rec, server, "ServerNotConfigured",
			fmt.Errorf("MCPServer %s/%s has no usable OAuth2 configuration (see its AuthConfigured condition)", server.Namespace, server.Name), now)
	}

	if reason, why := unbound(rec, server, cfg); reason != "" {
		tokenRefreshTotal.WithLabelValues(refreshResultUnbound).Inc()
		return r.markDead(ctx, live, rec, mcpauth.StateReauthorizationRequired, reason, mcpv1.EventReasonReauthorizationRequired, fmt.Sprintf(
			"The refresh token of user %s was not sent: %s, and a refresh token goes only to the token endpoint it was issued for; the user must connect again",
			userHashOf(live), why))
	}

	hc, err := r.trusted.For(r.HTTPClient, cfg.CABundle)
	if err != nil {
		return r.transientFailure(ctx, live, rec, server, "ServerNotConfigured",
			fmt.Errorf("the CA bundle copied into the OAuth client Secret of MCPServer %s/%s %w", server.Namespace, server.Name, err), now)
	}
	tokenRefreshLag.Observe(max(now.Sub(r.due(live, rec)), 0).Seconds())
	started := time.Now()
	tok, err := oauth.Refresh(opCtx, hc, *cfg, rec.RefreshToken, refreshResource(rec, cfg))
	if err != nil {
		tokenRefreshDuration.Observe(time.Since(started).Seconds())
		return r.refreshFailed(ctx, live, rec, server, cfg.Client.ClientID, err, now)
	}
	issuedAt := r.Clock.Now()
	// From here the old refresh token may be spent: remember the new tokens
	// until they are stored, so no retry ever redeems the old one again.
	r.pending.put(key, rec, tok, cfg.Endpoint.TokenEndpoint, issuedAt)
	res, err := r.persist(opCtx, live, rec, tok, cfg.Endpoint.TokenEndpoint, issuedAt)
	tokenRefreshDuration.Observe(time.Since(started).Seconds())
	if err == nil && rec.RefreshFailures > 0 {
		r.event(ctx, live, rec, corev1.EventTypeNormal, mcpv1.EventReasonTokenRefreshed,
			"Refreshed the token of user %s after %d failed attempts", userHashOf(live), rec.RefreshFailures)
	}
	return res, err
}

// persist writes refreshed tokens, obtained at tokenEndpoint (which the
// refresh token is bound to from then on); a reconnect that happened
// meanwhile wins.
func (r *Refresher) persist(ctx context.Context, live *corev1.Secret, rec tokensecret.Record, tok *oauth.Token, tokenEndpoint string, issuedAt time.Time) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(live)
	refreshed := tokensecret.Tokens{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Scopes: tok.Scopes}
	if tok.ExpiresIn > 0 {
		refreshed.Expiry = issuedAt.Add(tok.ExpiresIn) // on the refresher's clock, not tok.Expiry's
	}
	written, err := r.writeSecret(ctx, live, rec.GrantID, func(s *corev1.Secret) {
		tokensecret.ApplyRefreshed(s, refreshed, issuedAt)
		tokensecret.ApplyTokenEndpoint(s, tokenEndpoint)
	})
	switch {
	case err != nil:
		tokenRefreshTotal.WithLabelValues(refreshResultPersistPending).Inc()
		return ctrl.Result{}, fmt.Errorf("storing refreshed tokens in Secret %s (kept in memory, retrying the write only): %w", key, err)
	case !written:
		r.pending.drop(key)
		tokenRefreshTotal.WithLabelValues(refreshResultDiscarded).Inc()
		ctrl.LoggerFrom(ctx).Info("Discarded refreshed tokens: the user reconnected during the refresh", "secret", key)
		return ctrl.Result{}, nil
	}
	r.pending.drop(key)
	r.states.set(key, mcpauth.StateActive)
	tokenRefreshTotal.WithLabelValues(refreshResultSuccess).Inc()
	ctrl.LoggerFrom(ctx).V(1).Info("Refreshed token", "secret", key)
	// The write's watch event schedules the next refresh from the new expiry.
	return ctrl.Result{}, nil
}

// writeSecret applies mutate to live and updates it with live's
// resourceVersion as precondition. On a conflict it re-reads the Secret:
// if it now holds another grant (the user reconnected or disconnected) the
// write is abandoned (written=false); otherwise mutate is applied to the
// fresh copy and written again. mutate must not call out: the caller has
// already done any token request, and a retry never repeats it.
func (r *Refresher) writeSecret(ctx context.Context, live *corev1.Secret, grantID string, mutate func(*corev1.Secret)) (bool, error) {
	key := client.ObjectKeyFromObject(live)
	for range maxWriteAttempts {
		next := live.DeepCopy()
		mutate(next)
		err := r.Client.Update(ctx, next)
		if err == nil {
			return true, nil
		}
		if !apierrors.IsConflict(err) {
			return false, fmt.Errorf("updating token Secret %s: %w", key, err)
		}
		fresh := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, key, fresh); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("re-reading token Secret %s after a conflict: %w", key, err)
		}
		if tokensecret.Read(fresh).GrantID != grantID {
			return false, nil
		}
		live = fresh
	}
	return false, fmt.Errorf("updating token Secret %s: still conflicting after %d attempts", key, maxWriteAttempts)
}

// flowConfig loads the OAuth configuration of the Secret's MCPServer. A nil
// server means it is gone (garbage collection removes the Secret); a nil
// config means it is not usable right now.
func (r *Refresher) flowConfig(ctx context.Context, namespace, name string) (*mcpv1.MCPServer, *oauth.FlowConfig, error) {
	server := &mcpv1.MCPServer{}
	key := client.ObjectKey{Namespace: namespace, Name: name}
	if err := r.Client.Get(ctx, key, server); err != nil {
		if apierrors.IsNotFound(err) {
			r.configs.forget(key) // its client's credentials need not stay in memory
		}
		return nil, nil, client.IgnoreNotFound(fmt.Errorf("reading MCPServer %s/%s: %w", namespace, name, err))
	}
	cfg, err := r.loadConfig(ctx, server)
	if errors.Is(err, serverconfig.ErrNotConfigured) {
		return server, nil, nil
	}
	if err != nil {
		return server, nil, err
	}
	return server, &cfg, nil
}

// refreshResource is the RFC 8707 resource a refresh of rec sends: the one
// recorded at connect (what the grant was made for, which a refresh may
// not exceed) when the server's resourceIndicator sends one on refresh; ""
// (none) otherwise, and for a grant made without one.
func refreshResource(rec tokensecret.Record, cfg *oauth.FlowConfig) string {
	if !cfg.ResourceOnRefresh {
		return ""
	}
	return rec.Resource
}

// event records an outcome on the MCPServer. Notes name the user by hash
// only and never carry a token.
func (r *Refresher) event(ctx context.Context, secret *corev1.Secret, rec tokensecret.Record, eventType, reason, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	server := &mcpv1.MCPServer{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: rec.Server}, server); err != nil {
		return
	}
	event.Record(r.Recorder, server, secret, eventType, reason, "RefreshToken", fmt.Sprintf(note, args...))
}
