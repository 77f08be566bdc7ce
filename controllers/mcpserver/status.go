package mcpserver

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
)

// This file is the MCPServer's status, computed in one place: the steps
// record what they learned, and the pure functions here turn that into
// conditions, the Ready summary and the events of condition transitions.

// finding is what a step learned about the condition it owns.
type finding struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// learned is what one reconcile's steps found out. A nil finding leaves its
// condition as it was (the step did not get that far).
type learned struct {
	auth      *finding // AuthConfigured
	reachable *finding // Reachable
	// stalled is the failure that needs a person, when a step hit one.
	stalled *finding
}

func truef(reason, format string, args ...any) *finding {
	return &finding{status: metav1.ConditionTrue, reason: reason, message: fmt.Sprintf(format, args...)}
}

func falsef(reason, format string, args ...any) *finding {
	return &finding{status: metav1.ConditionFalse, reason: reason, message: fmt.Sprintf(format, args...)}
}

func unknownf(reason, format string, args ...any) *finding {
	return &finding{status: metav1.ConditionUnknown, reason: reason, message: fmt.Sprintf(format, args...)}
}

// failed is the finding for a step's failure (nil when the failure is
// unexpected and leaves the condition alone), and its stalled.Verdict.
func failed(err error, defaultReason string) (*finding, stalled.Verdict) {
	v := stalled.Classify(err, defaultReason)
	if v.Kind == stalled.Unexpected {
		return nil, v
	}
	return falsef(v.Reason, "%s", v.Message), v
}

// applyStatus records what the steps learned: AuthConfigured and Reachable
// from their findings, then Ready from both. observedGeneration moves only
// when the reconcile succeeded, so a reader never takes a half-done
// reconcile of a new generation for a finished one.
func applyStatus(server *mcpv1.MCPServer, l learned, succeeded bool) {
	for condType, f := range map[string]*finding{mcpv1.ConditionAuthConfigured: l.auth, mcpv1.ConditionReachable: l.reachable} {
		if f != nil {
			setCondition(server, condType, f.status, f.reason, f.message)
		}
	}
	status, reason, message := readiness(server)
	setCondition(server, mcpv1.ConditionReady, status, reason, message)
	applyProgress(server, status, reason, message, l.stalled)
	if succeeded {
		server.Status.ObservedGeneration = server.Generation
		if requested, ok := server.Annotations[mcpv1.AnnotationReconcileRequestedAt]; ok {
			server.Status.LastHandledReconcileAt = requested
		}
	}
}

// applyProgress sets the kstatus conditions from Ready, so GitOps health
// checks and kubectl wait agree with what a person reads: Stalled when a
// step needs a person, else Reconciling while the server is not Ready and
// the operator retries by itself; neither when it is Ready or disabled
// (the desired state).
func applyProgress(server *mcpv1.MCPServer, ready metav1.ConditionStatus, reason, message string, stalledBy *finding) {
	conds := &server.Status.Conditions
	switch {
	case stalledBy != nil:
		setCondition(server, mcpv1.ConditionStalled, metav1.ConditionTrue, stalledBy.reason, stalledBy.message)
		meta.RemoveStatusCondition(conds, mcpv1.ConditionReconciling)
	case ready == metav1.ConditionTrue || reason == mcpv1.ReasonDisabled:
		meta.RemoveStatusCondition(conds, mcpv1.ConditionStalled)
		meta.RemoveStatusCondition(conds, mcpv1.ConditionReconciling)
	default:
		meta.RemoveStatusCondition(conds, mcpv1.ConditionStalled)
		setCondition(server, mcpv1.ConditionReconciling, metav1.ConditionTrue, reason, "Not Ready yet; the operator keeps trying: "+message)
	}
}

// reconcileRequested reports whether the reconcile-requested-at annotation
// holds a value no reconcile has handled yet.
func reconcileRequested(server *mcpv1.MCPServer) bool {
	v, ok := server.Annotations[mcpv1.AnnotationReconcileRequestedAt]
	return ok && v != server.Status.LastHandledReconcileAt
}

// setCondition records a condition for the server's current generation.
func setCondition(server *mcpv1.MCPServer, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&server.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: server.Generation,
	})
}

// readiness is the only place Ready is decided.
func readiness(server *mcpv1.MCPServer) (metav1.ConditionStatus, string, string) {
	if !server.IsEnabled() {
		return metav1.ConditionFalse, mcpv1.ReasonDisabled, "The server is disabled (spec.enabled is false): chat apps do not offer it"
	}
	for _, t := range []string{mcpv1.ConditionAuthConfigured, mcpv1.ConditionReachable} {
		c := meta.FindStatusCondition(server.Status.Conditions, t)
		switch {
		case c == nil || c.ObservedGeneration != server.Generation:
			return metav1.ConditionUnknown, mcpv1.ReasonReconcile, t + " has not been evaluated for this generation yet"
		case c.Status == metav1.ConditionUnknown:
			return metav1.ConditionUnknown, c.Reason, t + ": " + c.Message
		case c.Status == metav1.ConditionFalse:
			return metav1.ConditionFalse, c.Reason, t + ": " + c.Message
		}
	}
	return metav1.ConditionTrue, mcpv1.ReasonReady, "Credentials are configured and the server answered"
}

// transition is one event to record for a condition that changed.
type transition struct {
	eventType, reason, action, note string
}

// transitions lists an event per condition that changed status or reason:
// Warning for False, Normal otherwise; the reason is the condition's.
func transitions(original, server *mcpv1.MCPServer) []transition {
	var out []transition
	for _, t := range []string{mcpv1.ConditionAuthConfigured, mcpv1.ConditionReachable} {
		now := meta.FindStatusCondition(server.Status.Conditions, t)
		if now == nil || now.Status == metav1.ConditionUnknown {
			continue
		}
		before := meta.FindStatusCondition(original.Status.Conditions, t)
		if before != nil && before.Status == now.Status && before.Reason == now.Reason {
			continue
		}
		eventType := corev1.EventTypeNormal
		if now.Status == metav1.ConditionFalse {
			eventType = corev1.EventTypeWarning
		}
		out = append(out, transition{eventType: eventType, reason: now.Reason, action: t, note: now.Message})
	}
	return out
}

// fillOAuth2Status records the authorization server and client in use.
// Without a fresh discovery the discovered fields in status stand.
func fillOAuth2Status(run *oauth2Run) error {
	server := run.server
	st := &mcpv1.OAuth2Status{}
	if prev := server.Status.OAuth2; prev != nil {
		st = prev.DeepCopy()
	}
	if run.discoveryAttempted {
		st.LastDiscoveryTime = &metav1.Time{Time: run.now}
	}
	if d := run.discovery; d != nil {
		md := d.AuthServer
		st.Issuer = md.Issuer
		st.AuthorizationEndpoint = md.AuthorizationEndpoint
		st.TokenEndpoint = md.TokenEndpoint
		st.RegistrationEndpoint = md.RegistrationEndpoint
		st.RevocationEndpoint = md.RevocationEndpoint
		st.ISSParameterSupported = md.AuthorizationResponseISSParameterSupported
		st.Resource = d.Resource
		st.ResourceMetadataURL = d.ResourceMetadataURL
	}
	if isStatic(server) {
		fillStaticEndpoints(run, st)
	}
	st.Scopes = run.scopes
	st.Registration = mcpv1.RegistrationMethod(run.client.Method)
	st.ClientID = run.client.ClientID
	st.ClientSecretName = mcpv1.ClientSecretName(server.Name)
	st.RedirectURI = run.redirectURI
	if err := checkStatusBounds(st); err != nil {
		return err
	}
	server.Status.OAuth2 = st
	return nil
}

// fillStaticEndpoints: a pre-registered client uses the endpoints in spec.
// What only discovery can tell (issuer, revocation, iss support) is kept
// when the discovered server has those endpoints; the resource is the PRM
// resource when discovery found one, else spec.url.
func fillStaticEndpoints(run *oauth2Run, st *mcpv1.OAuth2Status) {
	o := run.server.Spec.Auth.OAuth2
	st.AuthorizationEndpoint, st.TokenEndpoint = o.AuthorizationURL, o.TokenURL
	st.Issuer = run.client.Issuer
	if st.Issuer == "" {
		st.RegistrationEndpoint, st.RevocationEndpoint, st.ISSParameterSupported = "", "", false
	}
	if (run.discoveryAttempted && run.discovery == nil) || st.Resource == "" {
		st.Resource = run.server.Spec.URL
	}
}

// checkStatusBounds refuses values that would not fit the status schema.
func checkStatusBounds(st *mcpv1.OAuth2Status) error {
	for _, f := range []struct{ name, value string }{
		{"issuer", st.Issuer}, {"authorization_endpoint", st.AuthorizationEndpoint},
		{"token_endpoint", st.TokenEndpoint}, {"registration_endpoint", st.RegistrationEndpoint},
		{"revocation_endpoint", st.RevocationEndpoint}, {"resource", st.Resource},
		{"resource metadata URL", st.ResourceMetadataURL},
		{"client_id", st.ClientID}, {"redirect URI", st.RedirectURI},
	} {
		if len(f.value) > mcpv1.MaxURLLength {
			return stalled.Errorf(mcpv1.ReasonDiscoveryFailed,
				"The discovered %s is longer than %d bytes, which the operator does not accept; set spec.auth.oauth2 manually", f.name, mcpv1.MaxURLLength)
		}
	}
	if len(st.Scopes) > mcpv1.MaxScopes {
		return stalled.Errorf(mcpv1.ReasonDiscoveryFailed,
			"%d scopes were discovered, more than the %d the operator accepts: set spec.auth.oauth2.scopes", len(st.Scopes), mcpv1.MaxScopes)
	}
	for _, s := range st.Scopes {
		if len(s) > mcpv1.MaxScopeLength {
			return stalled.Errorf(mcpv1.ReasonDiscoveryFailed,
				"A discovered scope is longer than %d bytes: set spec.auth.oauth2.scopes", mcpv1.MaxScopeLength)
		}
	}
	return nil
}
