package tokenrefresh

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers/internal/event"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// refreshFailed records the outcome of a failed token request.
//   - invalid_grant: the grant is dead; tokens removed, no more retries.
//   - invalid_scope: the server no longer issues the scopes the user
//     granted (a refresh asks for no others); as invalid_grant.
//   - invalid_client: the MCPServer controller is told to register again;
//     tokens removed (they belong to the dead client).
//   - anything else: exponential backoff; the current access token is
//     served until it expires.
func (r *Refresher) refreshFailed(ctx context.Context, live *corev1.Secret, rec tokensecret.Record, server *mcpv1.MCPServer, clientID string, err error, now time.Time) (ctrl.Result, error) {
	var te *oauth.TokenError
	isTokenErr := errors.As(err, &te)
	switch {
	case isTokenErr && te.IsInvalidGrant():
		tokenRefreshTotal.WithLabelValues(refreshResultInvalidGrant).Inc()
		return r.markDead(ctx, live, rec, mcpauth.StateReauthorizationRequired, "invalid_grant", mcpv1.EventReasonReauthorizationRequired, fmt.Sprintf(
			"The authorization server rejected the refresh token of user %s (invalid_grant): the user must connect again", userHashOf(live)))
	case isTokenErr && te.IsInvalidScope():
		tokenRefreshTotal.WithLabelValues(refreshResultInvalidScope).Inc()
		return r.markDead(ctx, live, rec, mcpauth.StateReauthorizationRequired, "invalid_scope", mcpv1.EventReasonReauthorizationRequired, fmt.Sprintf(
			"The authorization server no longer issues the scopes user %s granted (invalid_scope on a refresh that asked for no other scope): the user must connect again", userHashOf(live)))
	case isTokenErr && te.IsInvalidClient():
		tokenRefreshTotal.WithLabelValues(refreshResultInvalidClient).Inc()
		if perr := r.signalClientInvalid(ctx, server, clientID); perr != nil {
			return ctrl.Result{}, perr
		}
		return r.markDead(ctx, live, rec, mcpauth.StateClientInvalid, "invalid_client", mcpv1.EventReasonClientInvalid, fmt.Sprintf(
			"The authorization server no longer accepts the operator's OAuth client (invalid_client) while refreshing the token of user %s: the client is registered again and the user must connect again", userHashOf(live)))
	}
	result := refreshResultError
	if oauth.IsTransient(err) {
		result = refreshResultTransient
	}
	tokenRefreshTotal.WithLabelValues(result).Inc()
	return r.transientFailure(ctx, live, rec, server, failureReason(te, err), err, now)
}

// markDead removes the tokens and records the terminal state; note is the
// event's text.
func (r *Refresher) markDead(ctx context.Context, live *corev1.Secret, rec tokensecret.Record, state mcpauth.State, reason, eventReason, note string) (ctrl.Result, error) {
	written, err := r.writeSecret(ctx, live, rec.GrantID, func(s *corev1.Secret) { tokensecret.ApplyDead(s, state, reason) })
	if err != nil || !written {
		return ctrl.Result{}, err
	}
	r.states.set(client.ObjectKeyFromObject(live), state)
	r.event(ctx, live, rec, corev1.EventTypeWarning, eventReason, "%s", note)
	return ctrl.Result{}, nil
}

// transientFailure backs off exponentially, recording why and until when.
// The Warning event is sent on the first failure only (a transition).
func (r *Refresher) transientFailure(ctx context.Context, live *corev1.Secret, rec tokensecret.Record, server *mcpv1.MCPServer, reason string, cause error, now time.Time) (ctrl.Result, error) {
	failures := rec.RefreshFailures + 1
	wait := backoffFor(failures)
	written, err := r.writeSecret(ctx, live, rec.GrantID, func(s *corev1.Secret) { tokensecret.ApplyBackoff(s, reason, failures, now.Add(wait)) })
	if err != nil || !written {
		return ctrl.Result{}, err
	}
	ctrl.LoggerFrom(ctx).Info("Token refresh failed; backing off", "secret", client.ObjectKeyFromObject(live),
		"reason", reason, "failures", failures, "retryIn", wait, "error", redact.Error(cause))
	if rec.RefreshFailures == 0 {
		event.Record(r.Recorder, server, live, corev1.EventTypeWarning, mcpv1.EventReasonRefreshFailed, "RefreshToken", fmt.Sprintf(
			"Refreshing the token of user %s failed, retrying with backoff; the current token is used until it expires: %s", userHashOf(live), redact.Error(cause)))
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// failureReason is the short, token-free reason stored on the Secret.
func failureReason(te *oauth.TokenError, err error) string {
	switch {
	case te == nil:
		return "Error"
	case te.Code != "":
		return te.Code
	case te.StatusCode != 0:
		return "HTTP " + strconv.Itoa(te.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	return "NetworkError"
}

// signalClientInvalid raises the re-registration signal on the MCPServer
// (tokensecret.MarkClientInvalidPatch).
func (r *Refresher) signalClientInvalid(ctx context.Context, server *mcpv1.MCPServer, clientID string) error {
	patch := tokensecret.MarkClientInvalidPatch(server, clientID)
	if patch == nil {
		return nil
	}
	if err := r.Client.Patch(ctx, server, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("signalling invalid_client on MCPServer %s/%s: %w", server.Namespace, server.Name, err)
	}
	return nil
}
