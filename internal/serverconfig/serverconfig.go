// Package serverconfig maps an OAuth2 MCPServer's status and its client
// Secret to the OAuth library's flow configuration. The reconciler writes the
// Secret with ClientSecretData; the callback server and the refresher read it
// back with Load. One mapping, both directions, in one place.
package serverconfig

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	return clientFromData(secret.Data, "")
}

// clientFromData reads the client stored under keys with prefix.
func clientFromData(d map[string][]byte, prefix string) oauth.Client {
	get := func(key string) []byte { return d[prefix+key] }
	return oauth.Client{
		ClientID:                string(get(mcpv1.ClientKeyClientID)),
		ClientSecret:            string(get(mcpv1.ClientKeyClientSecret)),
		TokenEndpointAuthMethod: string(get(mcpv1.ClientKeyAuthMethod)),
		Method:                  string(get(mcpv1.ClientKeyRegistration)),
		RegistrationAccessToken: string(get(mcpv1.ClientKeyRegistrationAccessToken)),
		RegistrationClientURI:   string(get(mcpv1.ClientKeyRegistrationClientURI)),
		Issuer:                  string(get(mcpv1.ClientKeyIssuer)),
		ClientSecretExpiresAt:   unixTime(get(mcpv1.ClientKeySecretExpiresAt)),
		ClientSecretIssuedAt:    unixTime(get(mcpv1.ClientKeySecretIssuedAt)),
	}
}

// A replaced client is kept in its successor's Secret, under keys with this
// prefix, until it is retired: a manager that stops in between retires it
// at its next reconcile instead of forgetting its registration.
const (
	retiringPrefix    = "retiring."
	retiringReasonKey = retiringPrefix + "reason"
)

// AddRetiring records in data (a client Secret's) the replaced client cl,
// still to be retired, and why it was replaced.
func AddRetiring(data map[string][]byte, cl *oauth.Client, why string) {
	for k, v := range ClientSecretData(cl, "") {
		if k != mcpv1.ClientKeyRedirectURI {
			data[retiringPrefix+k] = v
		}
	}
	data[retiringReasonKey] = []byte(why)
}

// RetiringFromSecret returns the replaced client recorded in secret and why
// it was replaced; nil when there is none.
func RetiringFromSecret(secret *corev1.Secret) (*oauth.Client, string) {
	if len(secret.Data[retiringPrefix+mcpv1.ClientKeyClientID]) == 0 {
		return nil, ""
	}
	cl := clientFromData(secret.Data, retiringPrefix)
	return &cl, string(secret.Data[retiringReasonKey])
}

// WithoutRetiring is a copy of a client Secret's data without the replaced
// client.
func WithoutRetiring(data map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		if !strings.HasPrefix(k, retiringPrefix) {
			out[k] = v
		}
	}
	return out
}

// unixTime reads a positive Unix time in seconds; zero otherwise.
func unixTime(b []byte) time.Time {
	if sec, err := strconv.ParseInt(string(b), 10, 64); err == nil && sec > 0 {
		return time.Unix(sec, 0)
	}
	return time.Time{}
}

// Authorization builds the part of the flow configuration an authorization
// request needs (client ID, endpoints, redirect URI, scopes, resource,
// extra parameters) from the MCPServer alone, whose status the operator
// writes when it stores the client: the connect page and its confirmation
// read no Secret. A code exchange or refresh needs Load.
func Authorization(server *mcpv1.MCPServer) (oauth.FlowConfig, error) {
	cfg, err := fromStatus(server)
	if err != nil {
		return cfg, err
	}
	st := server.Status.OAuth2
	if st.ClientID == "" || st.RedirectURI == "" {
		return oauth.FlowConfig{}, ErrNotConfigured
	}
	cfg.Client = oauth.Client{ClientID: st.ClientID, Issuer: st.Issuer}
	cfg.RedirectURI = st.RedirectURI
	return cfg, nil
}

// Load builds the flow configuration of an OAuth2 server whose
// AuthConfigured condition is True, reading its client Secret with reader.
func Load(ctx context.Context, reader client.Reader, server *mcpv1.MCPServer) (oauth.FlowConfig, error) {
	cfg, err := fromStatus(server)
	if err != nil {
		return cfg, err
	}
	st := server.Status.OAuth2
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
	cfg.Client = cl
	cfg.RedirectURI = string(secret.Data[mcpv1.ClientKeyRedirectURI])
	cfg.CABundle = secret.Data[mcpv1.ClientKeyCABundle]
	return cfg, nil
}

// fromStatus is the flow configuration from the MCPServer's spec and
// status, without the client: ErrNotConfigured until AuthConfigured is True.
func fromStatus(server *mcpv1.MCPServer) (oauth.FlowConfig, error) {
	st := server.Status.OAuth2
	if server.Spec.Auth.Type != mcpv1.AuthTypeOAuth2 || st == nil || st.ClientSecretName == "" ||
		!meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionAuthConfigured) {
		return oauth.FlowConfig{}, ErrNotConfigured
	}
	resource, onRefresh := resourceToSend(server.Spec.Auth.OAuth2, st.Resource)
	return oauth.FlowConfig{
		Endpoint: oauth.Endpoint{
			Issuer:                st.Issuer,
			AuthorizationEndpoint: st.AuthorizationEndpoint,
			TokenEndpoint:         st.TokenEndpoint,
			RevocationEndpoint:    st.RevocationEndpoint,
			ISSParameterSupported: st.ISSParameterSupported,
		},
		Resource:                resource,
		ResourceOnRefresh:       onRefresh,
		Scopes:                  st.Scopes,
		AuthorizationParameters: authorizationParameters(server.Spec.Auth.OAuth2),
	}, nil
}

// resourceToSend applies spec.auth.oauth2.resourceIndicator to the
// discovered resource: the RFC 8707 resource to send on authorization and
// code exchange ("" for none) and whether refreshes send one.
func resourceToSend(spec *mcpv1.OAuth2Auth, discovered string) (resource string, onRefresh bool) {
	send := spec.ResourceSend()
	if send == mcpv1.ResourceIndicatorNever {
		return "", false
	}
	resource = discovered
	if v := spec.ResourceValue(); v != "" {
		resource = v
	}
	return resource, send == mcpv1.ResourceIndicatorAlways
}

// authorizationParameters are spec.auth.oauth2's additional authorization
// request parameters; nil when there are none.
func authorizationParameters(spec *mcpv1.OAuth2Auth) map[string]string {
	if spec == nil || len(spec.AdditionalAuthorizationParameters) == 0 {
		return nil
	}
	out := make(map[string]string, len(spec.AdditionalAuthorizationParameters))
	for k, v := range spec.AdditionalAuthorizationParameters {
		out[k] = string(v)
	}
	return out
}
