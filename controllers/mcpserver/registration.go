package mcpserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
)

// ensureClient decides which client the server uses: the pre-registered one
// from spec, else the current registration when it is still valid, else a
// new one (CIMD or DCR, as oauth.Register decides). A replaced client is
// retired only after its successor is registered and stored (retireReplaced):
// a failed registration leaves the working client and its users alone.
func (r *Reconciler) ensureClient(ctx context.Context, run *oauth2Run) error {
	if isStatic(run.server) {
		return r.ensureStaticClient(ctx, run)
	}
	why := replaceReason(run)
	if why == "" {
		run.client = run.current
		return nil
	}
	if run.discovery == nil {
		// A settled server skipped discovery, but registering needs fresh
		// metadata (e.g. its client secret is about to expire).
		if err := r.runDiscovery(ctx, run); err != nil {
			return err
		}
		if run.discovery == nil {
			// Transient failure of a settled server (it has a client): keep it.
			run.client = run.current
			return nil
		}
		if why = replaceReason(run); why == "" {
			run.client = run.current
			return nil
		}
	}
	cl, err := oauth.Register(ctx, run.http, &run.discovery.AuthServer, registrationRequest(run))
	if err != nil {
		return err
	}
	if !cl.ClientSecretExpiresAt.IsZero() {
		cl.ClientSecretIssuedAt = run.now
	}
	run.client, run.newClient = cl, true
	run.retiring, run.replaced = run.current, why
	return nil
}

// verifyClient reads the current registration back (RFC 7592) when there is
// reason to doubt it: an invalid_client report on the MCPServer, or a
// discovery (periodic, or for a new generation). What the authorization
// server answers decides, not the report: a client it still knows is kept
// and the report dismissed, one it has forgotten (a restarted in-memory
// store, an eviction) is replaced. A client that cannot be read back is
// judged by the report alone, which only the refresher raises, from a
// refresh of a token Secret the operator owns.
func (r *Reconciler) verifyClient(ctx context.Context, run *oauth2Run) error {
	cur := run.current
	if cur == nil || cur.Method == oauth.MethodStatic || isStatic(run.server) {
		return nil
	}
	reported := run.invalidClient != "" && run.invalidClient == cur.ClientID
	if !reported && !run.discoveryAttempted {
		return nil
	}
	log := ctrl.LoggerFrom(ctx)
	state, err := oauth.ReadRegistration(ctx, run.http, cur)
	switch {
	case err != nil && reported && oauth.IsTransient(err):
		return err // unconfirmed: keep the client and ask again with backoff
	case err != nil:
		log.Info("Could not read the client registration back", "clientID", cur.ClientID, "error", redact.Error(err))
	case state == oauth.RegistrationKnown && reported:
		log.Info("The authorization server still knows the client: the invalid_client report is dismissed", "clientID", cur.ClientID)
		run.invalidClient = ""
	case state == oauth.RegistrationForgotten:
		log.Info("The authorization server no longer knows the client: registering a new one", "clientID", cur.ClientID)
		run.invalidClient = cur.ClientID
	}
	return nil
}

// registrationRequest describes the server's client to the authorization
// server, for a registration and for an RFC 7592 update alike.
func registrationRequest(run *oauth2Run) oauth.RegistrationRequest {
	return oauth.RegistrationRequest{
		ClientName:          clientName(run.server),
		RedirectURI:         run.redirectURI,
		Scopes:              run.scopes,
		ClientIDMetadataURL: run.cimdURL,
	}
}

// renewClientSecret renews the current client's expiring secret in place
// through RFC 7592, so the client keeps its ID and every user stays
// connected. It steps aside when the client must be replaced anyway, or
// cannot be updated: ensureClient then registers a new one.
func (r *Reconciler) renewClientSecret(ctx context.Context, run *oauth2Run) error {
	cur := run.current
	if isStatic(run.server) || !oauth.Renewable(cur) || cur.ClientSecretExpiresAt.IsZero() ||
		run.now.Before(oauth.SecretRenewalAt(cur)) {
		return nil
	}
	unexpiring := *cur
	unexpiring.ClientSecretExpiresAt = time.Time{}
	if oauth.ReplaceReason(&unexpiring, requirements(run)) != "" {
		return nil
	}
	renewed, err := oauth.RenewClientSecret(ctx, run.http, cur, registrationRequest(run))
	if err != nil {
		if oauth.IsTransient(err) && run.now.Before(cur.ClientSecretExpiresAt) {
			return err // the secret still works: ask again with backoff
		}
		r.event(run.server, corev1.EventTypeWarning, mcpv1.EventReasonClientSecretNotRenewed, "Renew", fmt.Sprintf(
			"Could not renew the secret of client %s, which expires at %s: %s. Registering a new client instead",
			cur.ClientID, cur.ClientSecretExpiresAt.UTC().Format(time.RFC3339), redact.Truncate(redact.Error(err), 600)))
		return nil
	}
	renewed.ClientSecretIssuedAt = run.now
	run.current = renewed
	r.event(run.server, corev1.EventTypeNormal, mcpv1.EventReasonClientSecretRenewed, "Renew", fmt.Sprintf(
		"Renewed the secret of client %s through RFC 7592; users stay connected. %s",
		cur.ClientID, secretExpiry(renewed)))
	return nil
}

// secretExpiry says when a client secret expires, for events.
func secretExpiry(cl *oauth.Client) string {
	if cl.ClientSecretExpiresAt.IsZero() {
		return "The new secret does not expire"
	}
	return "The new secret expires at " + cl.ClientSecretExpiresAt.UTC().Format(time.RFC3339)
}

// untilSecretRenewal is how long until the client's secret is due for
// renewal (0: never, or a pre-registered client the operator cannot renew).
func untilSecretRenewal(run *oauth2Run) time.Duration {
	if run.client == nil || run.client.Method == oauth.MethodStatic {
		return 0
	}
	at := oauth.SecretRenewalAt(run.client)
	if at.IsZero() {
		return 0
	}
	return max(at.Sub(run.now), time.Second)
}

// replaceReason says why the current client cannot be kept, "" when it can
// (oauth.ReplaceReason, the decision the conformance client also runs).
func replaceReason(run *oauth2Run) string {
	return oauth.ReplaceReason(run.current, requirements(run))
}

// requirements are what the current client must match to be kept. Without
// a fresh discovery the issuer in status stands for the server's.
func requirements(run *oauth2Run) oauth.ClientRequirements {
	want := oauth.ClientRequirements{
		RedirectURI:        run.redirectURI,
		CurrentRedirectURI: run.currentRedirect,
		InvalidClientID:    run.invalidClient,
		CIMDURL:            run.cimdURL,
		Now:                run.now,
	}
	if run.discovery != nil {
		want.Issuer = run.discovery.AuthServer.Issuer
		want.CIMDSupported = &run.discovery.AuthServer.ClientIDMetadataDocumentSupported
	} else if st := run.server.Status.OAuth2; st != nil {
		want.Issuer = st.Issuer
	}
	return want
}

// ensureStaticClient copies the pre-registered client from spec and its
// secret from clientSecretRef. A change of client ID retires the old
// client's tokens (and registration, when it was registered by us).
func (r *Reconciler) ensureStaticClient(ctx context.Context, run *oauth2Run) error {
	server := run.server
	o := server.Spec.Auth.OAuth2
	if run.invalidClient != "" && run.invalidClient == o.ClientID {
		return stalled.Errorf(mcpv1.ReasonClientRejected,
			"The authorization server rejected the pre-registered client %s (invalid_client): check spec.auth.oauth2.clientID and the secret in clientSecretRef with the provider, "+
				"then remove the annotation: kubectl annotate mcpserver -n %s %s %s-",
			o.ClientID, server.Namespace, server.Name, mcpv1.AnnotationClientInvalid)
	}
	cl := &oauth.Client{ClientID: o.ClientID, Method: oauth.MethodStatic,
		TokenEndpointAuthMethod: oauth.AuthMethodNone, Issuer: staticIssuer(run)}
	if ref := o.ClientSecretRef; ref != nil {
		secret, err := r.secretValue(ctx, server.Namespace, *ref, "spec.auth.oauth2.clientSecretRef")
		if err != nil {
			return err
		}
		cl.ClientSecret, cl.TokenEndpointAuthMethod = secret, oauth.AuthMethodClientSecretBasic
	}
	if cur := run.current; cur != nil && (cur.Method != oauth.MethodStatic || cur.ClientID != cl.ClientID) {
		why := "spec.auth.oauth2.clientID changed"
		if cur.Method != oauth.MethodStatic {
			why = "spec.auth.oauth2 now names a pre-registered client"
		}
		run.retiring, run.replaced = cur, why
	}
	run.client = cl
	run.newClient = run.current == nil || run.retiring != nil
	return nil
}

// staticIssuer is the issuer of a pre-registered client: the one in spec;
// else the discovered authorization server's when its endpoints are the
// ones in spec; else unknown ("": the RFC 9207 iss parameter is then not
// enforced).
func staticIssuer(run *oauth2Run) string {
	o := run.server.Spec.Auth.OAuth2
	if o.Issuer != "" {
		return o.Issuer
	}
	if d := run.discovery; d != nil {
		if d.AuthServer.TokenEndpoint == o.TokenURL || d.AuthServer.AuthorizationEndpoint == o.AuthorizationURL {
			return d.AuthServer.Issuer
		}
		return ""
	}
	if st := run.server.Status.OAuth2; st != nil && !run.discoveryAttempted && st.TokenEndpoint == o.TokenURL {
		return st.Issuer
	}
	return ""
}

// clientName is shown to users on the provider's consent screen.
func clientName(server *mcpv1.MCPServer) string {
	name := server.Spec.DisplayName
	if name == "" {
		name = server.Name
	}
	return redact.Truncate(name, 100) + " (mcp-operator)"
}
