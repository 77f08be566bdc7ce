package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Finalizer guards the cleanup of an MCPServer's client registration.
const Finalizer = "mcpoperator.io/cleanup"

// Labels and annotations the operator sets and selects on.
const (
	// LabelManagedBy marks every Secret mcp-operator writes.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on our Secrets.
	ManagedByValue = "mcp-operator"
	// LabelServer names the MCPServer a Secret belongs to.
	LabelServer = "mcpoperator.io/server"
	// LabelUserHash is the hash of the user ID a token Secret belongs to.
	LabelUserHash = "mcpoperator.io/user-hash"
	// LabelCredential, set to LabelCredentialValue, opts a Secret in to
	// being referenced by an MCPServer's spec.auth (apiKey.secretKeyRef,
	// headers.secretRef, oauth2.clientSecretRef). Whoever can create an
	// MCPServer chooses the URL its credentials are sent to, so the operator
	// sends no Secret its owner did not mark for that; see
	// internal/credentialsecret.
	LabelCredential = "mcpoperator.io/credential" //nolint:gosec // G101: a label name, not a credential
	// LabelCredentialValue is the value of LabelCredential that opts a Secret in.
	LabelCredentialValue = "true"

	// AnnotationUser holds the raw user ID of a token Secret (never part of a name).
	AnnotationUser = "mcpoperator.io/user"
	// AnnotationClientInvalid on an MCPServer is the re-registration signal:
	// the callback server or the refresher sets it to the client ID that the
	// authorization server answered invalid_client for.
	AnnotationClientInvalid = "mcpoperator.io/client-invalid"
	// AnnotationReconcileRequestedAt on an MCPServer asks for a reconcile
	// now, with a fresh discovery and probe: set it to any new value (e.g.
	// the time). The value handled last is status.lastHandledReconcileAt.
	AnnotationReconcileRequestedAt = "mcpoperator.io/reconcile-requested-at"
)

// Types of the Secrets mcp-operator owns.
const (
	// SecretTypeOAuth2Client holds a server's OAuth client credentials.
	SecretTypeOAuth2Client corev1.SecretType = "mcpoperator.io/oauth2-client" //nolint:gosec // G101: a Secret type name, not a credential
	// SecretTypeUserToken holds one user's tokens for one server.
	SecretTypeUserToken corev1.SecretType = "mcpoperator.io/user-token" //nolint:gosec // G101: a Secret type name, not a credential
)

// Keys of the OAuth client Secret (<server>-oauth2-client).
const (
	ClientKeyClientID                = "client_id"
	ClientKeyClientSecret            = "client_secret"
	ClientKeyIssuer                  = "issuer"
	ClientKeyRedirectURI             = "redirect_uri"
	ClientKeyAuthMethod              = "token_endpoint_auth_method"
	ClientKeyRegistration            = "registration"
	ClientKeyRegistrationAccessToken = "registration_access_token"
	ClientKeyRegistrationClientURI   = "registration_client_uri"
	ClientKeySecretExpiresAt         = "client_secret_expires_at"
	ClientKeySecretIssuedAt          = "client_secret_issued_at"
	// ClientKeyCABundle is a copy of spec.caBundleRef's PEM as the manager
	// last read and checked it, so the callback server and the refresher
	// trust what the manager trusts without reading the user's objects.
	ClientKeyCABundle = "ca_bundle"
)

// ClientSecretName is the name of the Secret holding a server's OAuth client.
func ClientSecretName(serverName string) string { return serverName + "-oauth2-client" }
