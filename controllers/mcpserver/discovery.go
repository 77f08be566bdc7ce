package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/stalled"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// DefaultRediscoveryInterval is how often a configured server's
// authorization server is discovered again, to notice moved endpoints.
const DefaultRediscoveryInterval = 24 * time.Hour

// deriveCallbackURLs derives the redirect URI (and, for an https callback
// URL, the Client ID Metadata Document URL) from --callback-url, through the
// functions the callback server uses too: <base>/callback/<ns>/<name> and
// <base>/client-metadata/<ns>/<name>.json.
func (r *Reconciler) deriveCallbackURLs(_ context.Context, run *oauth2Run) error {
	ns, name := run.server.Namespace, run.server.Name
	if r.CallbackURL == "" {
		return &stalled.Error{Reason: mcpv1.ReasonCallbackURLMissing, Message: "The operator has no callback URL, so it cannot give this OAuth2 server a redirect URI: " +
			"start the manager with --callback-url set to the callback server's public base URL (e.g. https://chat.example.com/mcp-auth)"}
	}
	run.redirectURI = mcpauth.RedirectURI(r.CallbackURL, ns, name)
	if err := oauth.ValidateRedirectURI(run.redirectURI); err != nil {
		return stalled.Errorf(mcpv1.ReasonCallbackURLInvalid,
			"--callback-url %s gives an unusable redirect URI (%s): restart the manager with an https --callback-url (plain http only on a loopback host)",
			redact.URL(r.CallbackURL), err)
	}
	if strings.HasPrefix(r.CallbackURL, "https://") {
		run.cimdURL = mcpauth.ClientMetadataURL(r.CallbackURL, ns, name)
	}
	return nil
}

// discover runs discovery when it is due. A pre-registered client does not
// depend on it: its failure is then only logged. A transient failure of a
// periodic re-discovery keeps the working configuration in effect and is
// retried at the next resync.
func (r *Reconciler) discover(ctx context.Context, run *oauth2Run) error {
	if !r.discoveryDue(run) {
		return nil
	}
	return r.runDiscovery(ctx, run)
}

func (r *Reconciler) runDiscovery(ctx context.Context, run *oauth2Run) error {
	server := run.server
	hosts := []string{server.Spec.URL}
	if st := server.Status.OAuth2; st != nil && st.Issuer != "" {
		hosts = append(hosts, st.Issuer)
	}
	requested := reconcileRequested(server)
	if requested && len(hosts) > 1 {
		r.discoverer.Forget(hosts[1]) // asked for now: no metadata from the cache
	}
	for _, h := range hosts {
		if wait := r.hosts.wait(h, run.now); wait > 0 && !requested {
			return &oauth.Error{Reason: oauth.ReasonDiscoveryFailed, URL: redact.URL(h), Transient: true,
				Message: fmt.Sprintf("%s failed recently; the operator tries it again in %s", redact.URL(h), wait.Round(time.Second))}
		}
	}
	d, err := r.discoverer.DiscoverPinned(ctx, run.http, server.Spec.URL, server.Spec.Auth.OAuth2.Issuer)
	r.observeDiscovery(server.Spec.URL, err, run.now)
	if err == nil {
		err = believable(run, d)
	}
	if err == nil {
		run.discovery, run.discoveryAttempted = d, true
		return nil
	}
	log := ctrl.LoggerFrom(ctx)
	switch {
	case isStatic(server) && (refusesPKCE(server, err) || oauth.ReasonOf(err) == oauth.ReasonIssuerNotListed):
		return err // the pre-registered client cannot work: say so
	case isStatic(server):
		log.V(1).Info("Discovery failed; the pre-registered client is used with the endpoints from spec",
			"reason", oauth.ReasonOf(err), "error", redact.Error(err))
		run.discoveryAttempted = true
		return nil
	case oauth.IsTransient(err) && settled(run):
		log.Info("Re-discovery failed; keeping the current OAuth configuration", "reason", oauth.ReasonOf(err), "error", redact.Error(err))
		r.event(server, corev1.EventTypeWarning, string(oauth.ReasonOf(err)), "Discover",
			"Periodic re-discovery failed, the current OAuth configuration stays in effect: "+redact.Error(err))
		return nil
	}
	return err
}

// believable refuses a discovery result that would replace a working
// configuration on evidence that is only an absence: a server that had
// protected resource metadata is not moved to MCP 2025-03-26 mode because
// its metadata is missing now (a WAF page, a deploy in progress), and an
// authorization server other than the current client's is believed only
// from metadata that was fetched and validated, never from the default
// endpoints assumed when none was found. Both are reported as transient:
// the current client stays and discovery is retried with backoff.
func believable(run *oauth2Run, d *oauth.Discovery) error {
	st := run.server.Status.OAuth2
	if d.Legacy && st != nil && st.ResourceMetadataURL != "" {
		return &oauth.Error{Reason: oauth.ReasonDiscoveryFailed, URL: redact.URL(st.ResourceMetadataURL), Transient: true,
			Message: fmt.Sprintf("the protected resource metadata found before at %s is missing now; the current OAuth configuration is kept until it is back",
				redact.URL(st.ResourceMetadataURL))}
	}
	if d.AuthServer.MetadataURL == "" && run.current != nil && run.current.Issuer != d.AuthServer.Issuer {
		return &oauth.Error{Reason: oauth.ReasonDiscoveryFailed, URL: redact.URL(d.AuthServer.Issuer), Transient: true,
			Message: fmt.Sprintf("no authorization server metadata was found at %s, so the move away from %s is not confirmed; the current client is kept",
				redact.URL(d.AuthServer.Issuer), redact.URL(run.current.Issuer))}
	}
	return nil
}

// settled reports whether the server's OAuth configuration is complete and
// current apart from its age: AuthConfigured True for this generation, a
// client Secret, the same redirect URI and no invalid_client report.
func settled(run *oauth2Run) bool {
	server, st := run.server, run.server.Status.OAuth2
	c := meta.FindStatusCondition(server.Status.Conditions, mcpv1.ConditionAuthConfigured)
	return st != nil && st.LastDiscoveryTime != nil && run.secret != nil && run.invalidClient == "" &&
		c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == server.Generation &&
		st.RedirectURI == run.redirectURI
}

// discoveryDue: anything not settled is discovered now; a settled server
// when its last discovery is older than the (jittered) interval.
func (r *Reconciler) discoveryDue(run *oauth2Run) bool {
	return !settled(run) || r.untilRediscovery(run) == 0 || reconcileRequested(run.server)
}

// untilRediscovery is the time left until the next periodic discovery, 0
// when it is due or the server has never been discovered.
func (r *Reconciler) untilRediscovery(run *oauth2Run) time.Duration {
	st := run.server.Status.OAuth2
	if run.discoveryAttempted {
		return r.rediscoveryInterval(run.server)
	}
	if st == nil || st.LastDiscoveryTime == nil {
		return 0
	}
	left := st.LastDiscoveryTime.Add(r.rediscoveryInterval(run.server)).Sub(run.now)
	if left <= 0 {
		return 0
	}
	return left
}

// rediscoveryInterval adds a stable per-server jitter of up to 10%, so that
// servers created together do not all re-discover at the same moment.
func (r *Reconciler) rediscoveryInterval(server *mcpv1.MCPServer) time.Duration {
	d := r.RediscoveryInterval
	if d <= 0 {
		d = DefaultRediscoveryInterval
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(server.UID))
	return d + time.Duration(h.Sum64()%uint64(d/10+1)) //nolint:gosec // G115: the remainder is below d/10+1, which fits an int64
}

// chooseScopes: spec scopes; else the challenge scope; else the PRM
// scopes_supported; else none; plus offline_access when the authorization
// server lists it. Without a fresh discovery the scopes in status stand.
func (r *Reconciler) chooseScopes(_ context.Context, run *oauth2Run) error {
	configured := run.server.Spec.Auth.OAuth2.Scopes
	switch st := run.server.Status.OAuth2; {
	case run.discovery != nil:
		run.scopes = oauth.DefaultScopes(configured, run.discovery)
	case !run.discoveryAttempted && st != nil:
		run.scopes = st.Scopes
	default:
		run.scopes = oauth.UnionScopes(configured)
	}
	return nil
}

// observeDiscovery feeds the per-host backoff: a transient failure counts
// against the host of the URL that failed (the MCP server's or an
// authorization server's), a success clears the MCP server's host.
func (r *Reconciler) observeDiscovery(serverURL string, err error, now time.Time) {
	var oe *oauth.Error
	switch {
	case err == nil:
		r.hosts.observe(serverURL, false, now)
	case oauth.IsTransient(err) && errors.As(err, &oe) && oe.URL != "":
		r.hosts.observe(oe.URL, true, now)
	}
}

// refusesPKCE reports that discovery found the metadata of the authorization
// server whose endpoints spec.auth.oauth2 names, and that it does not
// support PKCE S256: a pre-registered client is held to PKCE like a
// discovered one. An authorization server elsewhere does not count.
func refusesPKCE(server *mcpv1.MCPServer, err error) bool {
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Reason != oauth.ReasonPKCEUnsupported {
		return false
	}
	o := server.Spec.Auth.OAuth2
	at := originOf(oe.URL)
	return at != "" && (at == originOf(o.AuthorizationURL) || at == originOf(o.TokenURL))
}
