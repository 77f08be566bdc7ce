// Package serverconfig maps an OAuth2 MCPServer's status and its client
// Secret to the OAuth library's flow configuration. The reconciler writes the
// Secret with ClientSecretData; the callback server and the refresher read it
// back with Load. One mapping, both directions, in one place.
package serverconfig

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// ErrNotConfigured means the server has no usable OAuth configuration yet.
var ErrNotConfigured = fmt.Errorf("OAuth2 is not configured for this server yet")

// ClientSecretData is the content of a server's <name>-oauth2-client Secret.
func ClientSecretData(cl *oauth.Client, redirectURI string) map[string][]byte {
	data := map[string][]byte{
		mcpv1.ClientKeyClientID:     []byte(cl.ClientID),
		mcpv1.ClientKeyIssuer:       []byte(cl.Issuer),
		mcpv1.ClientKeyRedirectURI:  []byte(redirectURI),
		mcpv1.ClientKeyAuthMethod:   []byte(cl.TokenEndpointAuthMethod),
		mcpv1.ClientKeyRegistration: []byte(cl.Method),
	}
	optional := map[string]string{
		mcpv1.ClientKeyClientSecret:            cl.ClientSecret,
		mcpv1.ClientKeyRegistrationAccessToken: cl.RegistrationAccessToken,
		mcpv1.ClientKeyRegistrationClientURI:   cl.RegistrationClientURI,
	}
	if !cl.ClientSecretExpiresAt.IsZero() {
		optional[mcpv1.ClientKeySecretExpiresAt] = strconv.FormatInt(cl.ClientSecretExpiresAt.Unix(), 10)
	}
	if !cl.ClientSecretIssuedAt.IsZero() {
		optional[mcpv1.ClientKeySecretIssuedAt] = strconv.FormatInt(cl.ClientSecretIssuedAt.Unix(), 10)
	}
	for k, v := range optional {
		if v != "" {
			data[k] = []byte(v)
		}
	}
	return data
}

// ClientFromSecret reads a client back from its Secret.
func ClientFromSecret(secret *corev1.Secret) oauth.Client {
	d := secret.Data
	cl := oauth.Client{
		ClientID:                string(d[mcpv1.ClientKeyClientID]),
		ClientSecret:            string(d[mcpv1.ClientKeyClientSecret]),
		TokenEndpointAuthMethod: string(d[mcpv1.ClientKeyAuthMethod]),
		Method:                  string(d[mcpv1.ClientKeyRegistration]),
		RegistrationAccessToken: string(d[mcpv1.ClientKeyRegistrationAccessToken]),
		RegistrationClientURI:   string(d[mcpv1.ClientKeyRegistrationClientURI]),
		Issuer:                  string(d[mcpv1.ClientKeyIssuer]),
	}
	cl.ClientSecretExpiresAt = unixTime(d[mcpv1.ClientKeySecretExpiresAt])
	cl.ClientSecretIssuedAt = unixTime(d[mcpv1.ClientKeySecretIssuedAt])
	return cl
}

// unixTime reads a positive Unix time in seconds; zero otherwise.
func unixTime(b []byte) time.Time {
	if sec, err := strconv.ParseInt(string(b), 10, 64); err == nil && sec > 0 {
		return time.Unix(sec, 0)
	}
	return time.Time{}
}

// Load builds the flow configuration of an OAuth2 server whose
// AuthConfigured condition is True, reading its client Secret with reader.
func Load(ctx context.Context, reader client.Reader, server *mcpv1.MCPServer) (oauth.FlowConfig, error) {
	st := server.Status.OAuth2
	if server.Spec.Auth.Type != mcpv1.AuthTypeOAuth2 || st == nil || st.ClientSecretName == "" ||
		!meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionAuthConfigured) {
		return oauth.FlowConfig{}, ErrNotConfigured
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: server.Namespace, Name: st.ClientSecretName}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return oauth.FlowConfig{}, ErrNotConfigured
		}
		return oauth.FlowConfig{}, fmt.Errorf("reading OAuth client Secret %s: %w", key, err)
	}
	cl := ClientFromSecret(secret)
	if cl.Issuer != "" && st.Issuer != "" && cl.Issuer != st.Issuer {
		// Mid re-registration: the client belongs to another authorization
		// server, and its credentials are never sent anywhere else.
		return oauth.FlowConfig{}, fmt.Errorf("%w: the client in Secret %s was registered at %s, not at %s",
			ErrNotConfigured, key, redact.URL(cl.Issuer), redact.URL(st.Issuer))
	}
	return oauth.FlowConfig{
		Client: cl,
		Endpoint: oauth.Endpoint{
			Issuer:                st.Issuer,
			AuthorizationEndpoint: st.AuthorizationEndpoint,
			TokenEndpoint:         st.TokenEndpoint,
			RevocationEndpoint:    st.RevocationEndpoint,
			ISSParameterSupported: st.ISSParameterSupported,
		},
		RedirectURI: string(secret.Data[mcpv1.ClientKeyRedirectURI]),
		Resource:    st.Resource,
		Scopes:      st.Scopes,
	}, nil
}
