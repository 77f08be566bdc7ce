package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// oauth2Run is what one OAuth2 reconcile learns, phase by phase.
type oauth2Run struct {
	server *mcpv1.MCPServer
	now    time.Time
	// http is the client for the server's outbound calls and caBundle the
	// PEM it trusts besides the shared roots (serverScope).
	http     *http.Client
	caBundle []byte

	// redirectURI and cimdURL are derived from --callback-url; cimdURL is
	// empty unless the callback URL is https.
	redirectURI string
	cimdURL     string

	// secret is the current client Secret (nil when absent); current is the
	// client it holds and currentRedirect the redirect URI it was made for.
	secret          *corev1.Secret
	current         *oauth.Client
	currentRedirect string
	// invalidClient is the value of the client-invalid annotation.
	invalidClient string

	// discovery is set when discovery ran and succeeded in this reconcile;
	// discoveryAttempted also when it failed and the run went on (a
	// pre-registered client does not need it).
	discovery          *oauth.Discovery
	discoveryAttempted bool

	scopes []string
	// client is the client to use; newClient says it was just registered.
	// retiring is a client replaced (in this reconcile, or in an earlier one
	// that did not get to retire it), retired once its successor is stored;
	// replaced says why.
	client    *oauth.Client
	newClient bool
	retiring  *oauth.Client
	replaced  string
}

// reconcileOAuth2 owns AuthConfigured and status.oauth2 for OAuth2 servers:
// it discovers the authorization server, obtains a client (pre-registered,
// CIMD or DCR), stores it in the <name>-oauth2-client Secret and reports it.
func (r *Reconciler) reconcileOAuth2(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	run := &oauth2Run{server: s.server, now: r.now(), http: s.http, caBundle: s.caBundle}
	phases := []func(context.Context, *oauth2Run) error{
		r.deriveCallbackURLs,
		r.loadClientSecret,
		r.retireReplaced, // one an earlier reconcile stored, if any
		r.discover,
		r.chooseScopes,
		r.verifyClient,
		r.renewClientSecret,
		r.ensureClient,
		r.writeClientSecret,
		r.retireReplaced,
		r.clearClientInvalid,
	}
	for _, phase := range phases {
		if err := phase(ctx, run); err != nil {
			return r.authFailed(s, err)
		}
	}
	if err := fillOAuth2Status(run); err != nil {
		return r.authFailed(s, err)
	}
	s.learned.auth = r.oauth2Configured(ctx, run)
	return ctrl.Result{RequeueAfter: requeueFloor(soonest(r.untilRediscovery(run), untilSecretRenewal(run)))}, nil
}

// soonest is the shortest of the positive durations, 0 when there is none.
func soonest(ds ...time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d > 0 && (m == 0 || d < m) {
			m = d
		}
	}
	return m
}

// requeueFloor keeps a very short interval from turning into a busy loop;
// 0 (nothing scheduled) stays 0.
func requeueFloor(d time.Duration) time.Duration {
	if d > 0 && d < time.Minute {
		return time.Minute
	}
	return d
}

// isStatic reports whether spec.auth.oauth2 names a pre-registered client
// (CEL guarantees all three fields or none).
func isStatic(server *mcpv1.MCPServer) bool {
	o := server.Spec.Auth.OAuth2
	return o != nil && o.ClientID != "" && o.AuthorizationURL != "" && o.TokenURL != ""
}

// oauth2Configured is AuthConfigured's finding for a working client, and
// announces a new client.
// The first success is announced by the condition's transition event; a
// re-registration under an already True condition gets its own event.
func (r *Reconciler) oauth2Configured(ctx context.Context, run *oauth2Run) *finding {
	server, cl := run.server, run.client
	reason, msg := mcpv1.ReasonRegistered, ""
	switch cl.Method {
	case oauth.MethodStatic:
		reason = mcpv1.ReasonStaticClient
		msg = fmt.Sprintf("Using the pre-registered client %s from spec.auth.oauth2", cl.ClientID)
	case oauth.MethodCIMD:
		msg = fmt.Sprintf("Using Client ID Metadata Document %s (served by the callback server) with authorization server %s",
			cl.ClientID, redact.URL(cl.Issuer))
	default:
		msg = fmt.Sprintf("Registered client %s with authorization server %s by dynamic client registration (RFC 7591)",
			cl.ClientID, redact.URL(cl.Issuer))
	}
	msg += fmt.Sprintf("; client credentials are in Secret %s, redirect URI %s", mcpv1.ClientSecretName(server.Name), run.redirectURI)

	before := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionAuthConfigured)
	wasSame := before != nil && before.Status == metav1.ConditionTrue && before.Reason == reason
	if !run.newClient {
		return truef(reason, "%s", msg)
	}
	ctrl.LoggerFrom(ctx).Info("Obtained OAuth client", "method", cl.Method, "clientID", cl.ClientID,
		"issuer", redact.URL(cl.Issuer), "replaced", run.replaced)
	if wasSame {
		note := msg
		if run.replaced != "" {
			note = "Registered again because " + run.replaced + ". " + msg
		}
		r.event(server, corev1.EventTypeNormal, reason, "Register", note)
	}
	return truef(reason, "%s", msg)
}
