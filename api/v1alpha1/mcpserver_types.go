package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Transport is how the operator and chat apps talk to an MCP server.
// +kubebuilder:validation:Enum=StreamableHTTP;SSE
type Transport string

// Transports.
const (
	TransportStreamableHTTP Transport = "StreamableHTTP"
	TransportSSE            Transport = "SSE"
)

// Availability says whether chat users get a server's tools without asking.
// +kubebuilder:validation:Enum=ForceOn;DefaultOn;DefaultOff
type Availability string

// Availabilities.
const (
	AvailabilityForceOn    Availability = "ForceOn"
	AvailabilityDefaultOn  Availability = "DefaultOn"
	AvailabilityDefaultOff Availability = "DefaultOff"
)

// AuthType selects how requests to the MCP server are authenticated.
// +kubebuilder:validation:Enum=None;OAuth2;APIKey;Headers;UserOIDC
type AuthType string

// Auth types.
const (
	AuthTypeNone     AuthType = "None"
	AuthTypeOAuth2   AuthType = "OAuth2"
	AuthTypeAPIKey   AuthType = "APIKey"
	AuthTypeHeaders  AuthType = "Headers"
	AuthTypeUserOIDC AuthType = "UserOIDC"
)

// RegistrationMethod is how the operator obtained its OAuth client.
// +kubebuilder:validation:Enum=Static;CIMD;DCR
type RegistrationMethod string

const (
	// RegistrationStatic means pre-registered credentials given in spec.auth.oauth2.
	RegistrationStatic RegistrationMethod = "Static"
	// RegistrationCIMD means a Client ID Metadata Document served by the callback server.
	RegistrationCIMD RegistrationMethod = "CIMD"
	// RegistrationDCR means RFC 7591 dynamic client registration.
	RegistrationDCR RegistrationMethod = "DCR"
)

// Defaults, shared by the CRD markers below and the defaulting webhook.
const (
	DefaultTransport    = TransportStreamableHTTP
	DefaultAvailability = AvailabilityDefaultOff
	DefaultEnabled      = true
	DefaultAuthType     = AuthTypeNone
)

// MCPServerSpec declares a remote MCP server and how to authenticate to it.
type MCPServerSpec struct {
	// displayName is the name chat users see for this server.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`

	// description tells chat users and models what the server is for.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Description string `json:"description,omitempty"`

	// iconURL is an absolute https URL of an icon shown next to the server.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && size(url(self).getHostname()) > 0",message="iconURL must be an absolute https URL with a host"
	IconURL string `json:"iconURL,omitempty"`

	// url is the MCP endpoint, an absolute http(s) URL such as
	// https://mcp.example.com/mcp. Plain http is only for servers inside the
	// cluster or on loopback.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0",message="url must be an absolute http or https URL with a host, e.g. https://mcp.example.com/mcp"
	URL string `json:"url"`

	// transport is the MCP transport: StreamableHTTP (the current standard) or
	// SSE (the deprecated HTTP+SSE transport of older servers).
	// +optional
	// +kubebuilder:default=StreamableHTTP
	Transport Transport `json:"transport,omitempty"`

	// enabled switches the server on or off for every chat user without
	// deleting it. Disabled servers are not probed and not offered.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// availability says whether users get the server's tools without asking:
	// ForceOn (always, users cannot turn it off), DefaultOn (on until a user
	// turns it off) or DefaultOff (off until a user turns it on).
	// +optional
	// +kubebuilder:default=DefaultOff
	Availability Availability `json:"availability,omitempty"`

	// modelIntent lets the model decide on its own to use this server's tools.
	// +optional
	ModelIntent bool `json:"modelIntent,omitempty"`

	// allowInPlanMode allows the server's tools while the chat app is in plan
	// (read-only) mode. Only set it for servers whose tools change nothing.
	// +optional
	AllowInPlanMode bool `json:"allowInPlanMode,omitempty"`

	// forwardIdentityHeaders makes chat apps send the signed-in user's
	// identity headers (e.g. X-Forwarded-User) to the server.
	// +optional
	ForwardIdentityHeaders bool `json:"forwardIdentityHeaders,omitempty"`

	// tools narrows which of the server's tools are offered.
	// +optional
	Tools *ToolFilter `json:"tools,omitempty"`

	// auth says how requests to the server are authenticated.
	// +optional
	// +kubebuilder:default={type: None}
	Auth Auth `json:"auth,omitempty"`

	// caBundleRef names PEM CA certificates trusted, in addition to the
	// operator's trust roots, for every outbound call about this server: the
	// probe, OAuth discovery, client registration and token requests. Use it
	// for a server or authorization server with a private or corporate CA.
	// +optional
	CABundleRef *CABundleSource `json:"caBundleRef,omitempty"`
}

// CABundleSource selects a key holding PEM CA certificates, in a ConfigMap
// or in a Secret of the MCPServer's namespace.
// +kubebuilder:validation:XValidation:rule="has(self.configMapKeyRef) != has(self.secretKeyRef)",message="caBundleRef: set exactly one of configMapKeyRef and secretKeyRef"
type CABundleSource struct {
	// configMapKeyRef selects a ConfigMap key holding the PEM certificates.
	// +optional
	ConfigMapKeyRef *ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`

	// secretKeyRef selects a Secret key holding the PEM certificates. The
	// Secret must carry the label mcpoperator.io/credential=true, like every
	// Secret an MCPServer references.
	// +optional
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// ToolFilter narrows the tools offered. A tool in both lists is denied.
type ToolFilter struct {
	// allow lists the only tools offered; empty means every tool.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=128
	Allow []string `json:"allow,omitempty"`

	// deny lists tools never offered; deny wins over allow.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=128
	Deny []string `json:"deny,omitempty"`
}

// Auth selects an authentication type and holds the block for that type.
// Exactly the block matching type is set; None takes no block.
// +kubebuilder:validation:XValidation:rule="self.type == 'OAuth2' ? has(self.oauth2) : !has(self.oauth2)",message="auth.oauth2 must be set when auth.type is OAuth2 (use oauth2: {} to discover and register automatically) and absent otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'APIKey' ? has(self.apiKey) : !has(self.apiKey)",message="auth.apiKey must be set when auth.type is APIKey (header and secretKeyRef) and absent otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'Headers' ? has(self.headers) : !has(self.headers)",message="auth.headers must be set when auth.type is Headers (secretRef) and absent otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'UserOIDC' ? has(self.userOIDC) : !has(self.userOIDC)",message="auth.userOIDC must be set when auth.type is UserOIDC (userOIDC: {} for the defaults) and absent otherwise"
type Auth struct {
	// type is the authentication type: None (no credentials), OAuth2 (each
	// user connects their own account), APIKey (one key for everyone, from a
	// Secret), Headers (fixed headers from a Secret) or UserOIDC (the chat
	// app forwards the signed-in user's OIDC token).
	// +optional
	// +kubebuilder:default=None
	Type AuthType `json:"type,omitempty"`

	// oauth2 configures per-user OAuth 2.1 authorization. Leave clientID,
	// authorizationURL and tokenURL empty to let the operator discover the
	// authorization server and register a client itself.
	// +optional
	OAuth2 *OAuth2Auth `json:"oauth2,omitempty"`

	// apiKey sends one API key, read from a Secret, in a header.
	// +optional
	APIKey *APIKeyAuth `json:"apiKey,omitempty"`

	// headers sends every key of a Secret as a header.
	// +optional
	Headers *HeadersAuth `json:"headers,omitempty"`

	// userOIDC forwards the signed-in user's OIDC token.
	// +optional
	UserOIDC *UserOIDCAuth `json:"userOIDC,omitempty"`
}

// OAuth2Auth configures OAuth 2.1 with PKCE. Either all of clientID,
// authorizationURL and tokenURL are set (a pre-registered client) or none of
// them (the operator discovers and registers).
// +kubebuilder:validation:XValidation:rule="(has(self.clientID) && size(self.clientID) > 0) == (has(self.authorizationURL) && size(self.authorizationURL) > 0) && (has(self.authorizationURL) && size(self.authorizationURL) > 0) == (has(self.tokenURL) && size(self.tokenURL) > 0)",message="auth.oauth2: set all of clientID, authorizationURL and tokenURL to use a pre-registered client, or none of them to let the operator discover and register one"
// +kubebuilder:validation:XValidation:rule="!has(self.clientSecretRef) || (has(self.clientID) && size(self.clientID) > 0)",message="auth.oauth2.clientSecretRef is only used with a pre-registered client: set clientID, authorizationURL and tokenURL too, or remove clientSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.omitResourceOnRefresh) || !self.omitResourceOnRefresh || !has(self.resourceIndicator) || !has(self.resourceIndicator.send) || self.resourceIndicator.send == 'ExceptRefresh'",message="auth.oauth2: the deprecated omitResourceOnRefresh: true means resourceIndicator.send: ExceptRefresh; remove omitResourceOnRefresh or make send ExceptRefresh"
type OAuth2Auth struct {
	// clientID of a pre-registered OAuth client. Empty: register automatically.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	ClientID string `json:"clientID,omitempty"`

	// clientSecretRef selects the Secret key holding the pre-registered
	// client's secret. Omit it for a public client. The Secret must carry
	// the label mcpoperator.io/credential=true, and may not be one of the
	// operator's own Secrets.
	// +optional
	ClientSecretRef *SecretKeySelector `json:"clientSecretRef,omitempty"`

	// authorizationURL is the pre-registered client's authorization endpoint.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || (isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0)",message="authorizationURL must be an absolute http or https URL with a host"
	AuthorizationURL string `json:"authorizationURL,omitempty"`

	// tokenURL is the pre-registered client's token endpoint.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || (isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0)",message="tokenURL must be an absolute http or https URL with a host"
	TokenURL string `json:"tokenURL,omitempty"`

	// issuer names the authorization server by its issuer identifier (RFC
	// 8414). With a pre-registered client it is the issuer the client is
	// registered with: the server's protected resource metadata must list
	// it (else AuthConfigured is False with reason IssuerNotListed), and
	// sign-in responses that carry an iss parameter must carry it (RFC
	// 9207). With automatic registration it picks, of several authorization
	// servers the metadata lists, the one to register with. Unset: the
	// first one listed, the choice of most MCP clients (RFC 9728 gives the
	// list no order). For a server without protected resource metadata, the
	// authorization server's metadata is read from this issuer instead of
	// from the server's origin.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0 && !self.contains('?') && !self.contains('#')",message="issuer must be an absolute http or https URL with a host and no query or fragment (an RFC 8414 issuer identifier)"
	Issuer string `json:"issuer,omitempty"`

	// scopes to request. Empty: the scopes the server asks for in its 401
	// challenge, else the scopes its protected resource metadata lists.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Scopes []string `json:"scopes,omitempty"`

	// omitResourceOnRefresh is deprecated: use resourceIndicator.send:
	// ExceptRefresh, which it means when resourceIndicator.send is unset.
	// Setting both requires send to be ExceptRefresh.
	// +optional
	OmitResourceOnRefresh bool `json:"omitResourceOnRefresh,omitempty"`

	// resourceIndicator says when the RFC 8707 resource parameter is sent and
	// which value. Unset: the resource of the server's protected resource
	// metadata, on authorization, code exchange and refresh.
	// +optional
	ResourceIndicator *ResourceIndicator `json:"resourceIndicator,omitempty"`

	// additionalAuthorizationParameters are added to the authorization
	// request (never to token requests), e.g. access_type: offline and
	// prompt: consent for Google, or audience for Auth0 and Atlassian. Keys
	// are RFC 6749 parameter names; the parameters the operator sets itself
	// (client_id, client_secret, redirect_uri, state, code_challenge,
	// code_challenge_method, response_type, response_mode, scope, resource,
	// request, request_uri) are refused, in any letter case. Values are not
	// secret: they travel in the user's browser.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[-._A-Za-z0-9]{1,64}$'))",message="additionalAuthorizationParameters keys must be 1 to 64 letters, digits, '-', '.' or '_' (RFC 6749 parameter names)"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'client_id')",message="additionalAuthorizationParameters may not set client_id: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'client_secret')",message="additionalAuthorizationParameters may not set client_secret: a client secret never goes in the authorization request"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'redirect_uri')",message="additionalAuthorizationParameters may not set redirect_uri: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'state')",message="additionalAuthorizationParameters may not set state: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'code_challenge')",message="additionalAuthorizationParameters may not set code_challenge: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'code_challenge_method')",message="additionalAuthorizationParameters may not set code_challenge_method: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'response_type')",message="additionalAuthorizationParameters may not set response_type: the operator sets it itself"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'response_mode')",message="additionalAuthorizationParameters may not set response_mode: the callback takes the default response mode only"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'scope')",message="additionalAuthorizationParameters may not set scope: the operator sets it itself from scopes"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'resource')",message="additionalAuthorizationParameters may not set resource: the operator sets it itself from resourceIndicator"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'request')",message="additionalAuthorizationParameters may not set request: a request object (RFC 9101) would replace the operator's parameters"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.lowerAscii() == 'request_uri')",message="additionalAuthorizationParameters may not set request_uri: a request object (RFC 9101) would replace the operator's parameters"
	AdditionalAuthorizationParameters map[string]AuthorizationParameterValue `json:"additionalAuthorizationParameters,omitempty"`
}

// AuthorizationParameterValue is the value of an additional authorization
// request parameter.
// +kubebuilder:validation:MaxLength=512
type AuthorizationParameterValue string

// ResourceIndicatorSend says on which requests the RFC 8707 resource
// parameter is sent.
// +kubebuilder:validation:Enum=Always;ExceptRefresh;Never
type ResourceIndicatorSend string

const (
	// ResourceIndicatorAlways sends it on authorization, code exchange and
	// refresh (the MCP authorization spec's default).
	ResourceIndicatorAlways ResourceIndicatorSend = "Always"
	// ResourceIndicatorExceptRefresh sends it on authorization and code
	// exchange only, for providers that reject it on refresh.
	ResourceIndicatorExceptRefresh ResourceIndicatorSend = "ExceptRefresh"
	// ResourceIndicatorNever never sends it, for providers that reject it
	// whenever the scope names a resource (Entra ID: AADSTS9010010).
	ResourceIndicatorNever ResourceIndicatorSend = "Never"
)

// ResourceIndicator controls the RFC 8707 resource parameter.
type ResourceIndicator struct {
	// send is when to send it: Always (authorization, code exchange and
	// refresh), ExceptRefresh (not on refresh) or Never. Unset: Always, or
	// ExceptRefresh when the deprecated omitResourceOnRefresh is true.
	// +optional
	Send ResourceIndicatorSend `json:"send,omitempty"`

	// value replaces the resource of the server's protected resource
	// metadata in what is sent, e.g. Entra ID's api://<application-id>. An
	// absolute URI without a fragment (RFC 8707 §2). Whether the MCP server
	// accepts tokens issued for it is between it and the provider.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z][-+.A-Za-z0-9]*:[^#[:space:]]+$')",message="resourceIndicator.value must be an absolute URI without a fragment (RFC 8707), e.g. api://00000000-0000-0000-0000-000000000000 or https://mcp.example.com/mcp"
	Value string `json:"value,omitempty"`
}

// ResourceSend is the policy in effect: resourceIndicator.send, else
// ExceptRefresh for the deprecated omitResourceOnRefresh, else Always.
func (o *OAuth2Auth) ResourceSend() ResourceIndicatorSend {
	switch {
	case o == nil:
		return ResourceIndicatorAlways
	case o.ResourceIndicator != nil && o.ResourceIndicator.Send != "":
		return o.ResourceIndicator.Send
	case o.OmitResourceOnRefresh:
		return ResourceIndicatorExceptRefresh
	}
	return ResourceIndicatorAlways
}

// ResourceValue is resourceIndicator.value; "" when unset.
func (o *OAuth2Auth) ResourceValue() string {
	if o == nil || o.ResourceIndicator == nil {
		return ""
	}
	return o.ResourceIndicator.Value
}

// APIKeyAuth sends an API key from a Secret in a header.
type APIKeyAuth struct {
	// header is the HTTP header that carries the key, e.g. X-API-Key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	Header string `json:"header"`

	// secretKeyRef selects the Secret key holding the API key. The Secret
	// must carry the label mcpoperator.io/credential=true, and may not be
	// one of the operator's own Secrets or a service-account token.
	// +required
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// HeadersAuth sends fixed headers from a Secret.
type HeadersAuth struct {
	// secretRef names a Secret in the same namespace; each of its keys is a
	// header name and each value that header's value. The Secret must carry
	// the label mcpoperator.io/credential=true, and may not be one of the
	// operator's own Secrets or a service-account token.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// UserOIDCAuth forwards the chat user's OIDC token to the server.
type UserOIDCAuth struct {
	// audience the forwarded token must be issued for, if the server checks it.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Audience string `json:"audience,omitempty"`
}

// SecretKeySelector selects a key of a Secret in the MCPServer's namespace.
type SecretKeySelector struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// key within the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// ConfigMapKeySelector selects a key of a ConfigMap in the MCPServer's namespace.
type ConfigMapKeySelector struct {
	// name of the ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// key within the ConfigMap (data or binaryData).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// LocalObjectReference names an object in the MCPServer's namespace.
type LocalObjectReference struct {
	// name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// MCPServerStatus is what the operator observed and configured.
type MCPServerStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the summary), AuthConfigured and Reachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// oauth2 is the discovered or configured OAuth setup.
	// +optional
	OAuth2 *OAuth2Status `json:"oauth2,omitempty"`

	// server is what the MCP server said about itself at initialize.
	// +optional
	Server *ServerInfo `json:"server,omitempty"`

	// tools are the names of the tools offered, after allow and deny.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=128
	Tools []string `json:"tools,omitempty"`

	// connectedUsers counts users holding a usable token for this server.
	// +optional
	ConnectedUsers int32 `json:"connectedUsers,omitempty"`

	// lastHandledReconcileAt is the value of the
	// mcpoperator.io/reconcile-requested-at annotation the last completed
	// reconcile handled.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// OAuth2Status records the authorization server and client in use.
type OAuth2Status struct {
	// issuer of the authorization server.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Issuer string `json:"issuer,omitempty"`
	// authorizationEndpoint users are sent to.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	AuthorizationEndpoint string `json:"authorizationEndpoint,omitempty"`
	// tokenEndpoint codes and refresh tokens are redeemed at.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	TokenEndpoint string `json:"tokenEndpoint,omitempty"`
	// registrationEndpoint for RFC 7591 dynamic client registration.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	RegistrationEndpoint string `json:"registrationEndpoint,omitempty"`
	// revocationEndpoint for RFC 7009 token revocation.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	RevocationEndpoint string `json:"revocationEndpoint,omitempty"`
	// issParameterSupported: the authorization server sends the RFC 9207
	// iss parameter on authorization responses, so callbacks must carry it.
	// +optional
	ISSParameterSupported bool `json:"issParameterSupported,omitempty"`
	// resource is the RFC 8707 resource sent on every authorization and token request.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Resource string `json:"resource,omitempty"`
	// resourceMetadataURL is where the RFC 9728 protected resource metadata
	// was found; empty for a server without one (MCP 2025-03-26 mode). A
	// server that had it is never moved to that mode because it is missing
	// for a while.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ResourceMetadataURL string `json:"resourceMetadataURL,omitempty"`
	// scopes requested from users.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Scopes []string `json:"scopes,omitempty"`
	// registration is how the client was obtained: Static, CIMD or DCR.
	// +optional
	Registration RegistrationMethod `json:"registration,omitempty"`
	// clientID of the OAuth client (not a secret).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ClientID string `json:"clientID,omitempty"`
	// clientSecretName is the Secret holding the client credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClientSecretName string `json:"clientSecretName,omitempty"`
	// redirectURI registered for the callback server.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	RedirectURI string `json:"redirectURI,omitempty"`
	// lastDiscoveryTime is when the authorization server was last discovered.
	// +optional
	LastDiscoveryTime *metav1.Time `json:"lastDiscoveryTime,omitempty"`
}

// ServerInfo is the MCP server's self-description from initialize.
type ServerInfo struct {
	// name the server reported.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Name string `json:"name,omitempty"`
	// version the server reported.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Version string `json:"version,omitempty"`
	// protocolVersion negotiated at initialize.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ProtocolVersion string `json:"protocolVersion,omitempty"`
}

// MCPServer declares a remote MCP server that in-cluster chat and agent apps
// may use, and how to authenticate to it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcps,categories={mcp,all}
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Auth",type=string,JSONPath=`.spec.auth.type`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.connectedUsers`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: Secret names are derived from it"
type MCPServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the server.
	// +required
	Spec MCPServerSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status MCPServerStatus `json:"status,omitempty"`
}

// IsEnabled reports whether the server is switched on (the default).
func (s *MCPServer) IsEnabled() bool { return s.Spec.Enabled == nil || *s.Spec.Enabled }

// MCPServerList is a list of MCPServers.
// +kubebuilder:object:root=true
type MCPServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MCPServer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&MCPServer{}, &MCPServerList{})
}
