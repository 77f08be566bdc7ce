package mcpserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Bounds of status.oauth2 (see the API types): values from an untrusted
// document that do not fit are refused rather than breaking the status write.
const (
	maxStatusURL    = 2048
	maxStatusScopes = 64
	maxScopeLength  = 256
)

// fillOAuth2Status records the authorization server and client in use.
// Without a fresh discovery the discovered fields in status stand.
func (r *Reconciler) fillOAuth2Status(run *oauth2Run) error {
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
		{"client_id", st.ClientID}, {"redirect URI", st.RedirectURI},
	} {
		if len(f.value) > maxStatusURL {
			return &credentialError{mcpv1.ReasonDiscoveryFailed, fmt.Sprintf(
				"The discovered %s is longer than %d bytes, which the operator does not accept; set spec.auth.oauth2 manually", f.name, maxStatusURL)}
		}
	}
	if len(st.Scopes) > maxStatusScopes {
		return &credentialError{mcpv1.ReasonDiscoveryFailed, fmt.Sprintf(
			"%d scopes were discovered, more than the %d the operator accepts: set spec.auth.oauth2.scopes", len(st.Scopes), maxStatusScopes)}
	}
	for _, s := range st.Scopes {
		if len(s) > maxScopeLength {
			return &credentialError{mcpv1.ReasonDiscoveryFailed, fmt.Sprintf(
				"A discovered scope is longer than %d bytes: set spec.auth.oauth2.scopes", maxScopeLength)}
		}
	}
	return nil
}
