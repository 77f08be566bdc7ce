package v1alpha1

// Condition types reported on an MCPServer.
const (
	// ConditionReady summarises the other conditions: the server can be used.
	ConditionReady = "Ready"
	// ConditionAuthConfigured says whether the server's credentials are usable.
	ConditionAuthConfigured = "AuthConfigured"
	// ConditionReachable says whether the server answered a probe.
	ConditionReachable = "Reachable"
	// ConditionReconciling is present (True) while the operator is still
	// working toward Ready: the server is not Ready and it retries by
	// itself. Abnormal-true, as kstatus (Flux, Argo CD, kubectl wait)
	// reads it; absent otherwise.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is present (True) when the operator cannot make
	// progress without a person (a missing Secret, a refused client...):
	// the reason and message say what to fix. Absent otherwise.
	ConditionStalled = "Stalled"
)

// Reasons for ConditionAuthConfigured.
const (
	ReasonNotRequired           = "NotRequired"
	ReasonSecretsResolved       = "SecretsResolved"
	ReasonUserIdentityForwarded = "UserIdentityForwarded"
	ReasonStaticClient          = "StaticClient"
	ReasonRegistered            = "Registered"
	ReasonSecretNotFound        = "SecretNotFound"
	ReasonSecretKeyNotFound     = "SecretKeyNotFound"
	// ReasonSecretNotOptedIn: a referenced Secret lacks the LabelCredential
	// label, so the operator does not send it anywhere.
	ReasonSecretNotOptedIn = "SecretNotOptedIn"
	// ReasonSecretTypeNotAllowed: a referenced Secret is of a type an
	// MCPServer may never reference (the operator's own Secrets, service
	// account tokens), labelled or not.
	ReasonSecretTypeNotAllowed = "SecretTypeNotAllowed"
	// ReasonInvalidHeader: a headers Secret has a key that is no usable header name.
	ReasonInvalidHeader           = "InvalidHeader"
	ReasonDiscoveryFailed         = "DiscoveryFailed"
	ReasonRegistrationUnsupported = "RegistrationUnsupported"
	ReasonRegistrationFailed      = "RegistrationFailed"
	ReasonIssuerMismatch          = "IssuerMismatch"
	// ReasonIssuerNotListed: spec.auth.oauth2.issuer is not among the
	// authorization servers the protected resource metadata lists.
	ReasonIssuerNotListed    = "IssuerNotListed"
	ReasonResourceMismatch   = "ResourceMismatch"
	ReasonPKCEUnsupported    = "PKCEUnsupported"
	ReasonURLBlocked         = "URLBlocked"
	ReasonCallbackURLMissing = "CallbackURLMissing"
	// ReasonCallbackURLInvalid: --callback-url yields an unusable redirect URI.
	ReasonCallbackURLInvalid = "CallbackURLInvalid"
	// ReasonClientSecretConflict: <name>-oauth2-client exists but is not ours.
	ReasonClientSecretConflict = "ClientSecretConflict"
	// ReasonClientRejected: the authorization server answered invalid_client
	// for a pre-registered client, which only its owner can fix.
	ReasonClientRejected = "ClientRejected"
	// ReasonCABundleNotFound: the ConfigMap or key spec.caBundleRef names
	// does not exist.
	ReasonCABundleNotFound = "CABundleNotFound"
	// ReasonCABundleInvalid: spec.caBundleRef's key holds no usable PEM
	// CA certificates.
	ReasonCABundleInvalid = "CABundleInvalid"
)

// Reasons for ConditionReachable.
const (
	ReasonConnected             = "Connected"
	ReasonAuthorizationRequired = "AuthorizationRequired"
	ReasonUnreachable           = "Unreachable"
	ReasonProbeSkipped          = "ProbeSkipped"
)

// Reasons for ConditionReady.
const (
	ReasonReady     = "Ready"
	ReasonDisabled  = "Disabled"
	ReasonReconcile = "Reconciling"
)

// Reasons of events that are not condition transitions (the event of a
// condition transition carries the condition's reason).
const (
	// EventReasonOAuth2ClientRemoved: an OAuth client and its users' tokens
	// were retired (auth type changed, or the client was replaced).
	EventReasonOAuth2ClientRemoved = "OAuth2ClientRemoved"
	// EventReasonClientSecretRenewed: an expiring client secret was renewed
	// through RFC 7592; the client and its users' grants stay.
	EventReasonClientSecretRenewed = "ClientSecretRenewed"
	// EventReasonClientSecretNotRenewed: it could not be; a new client is
	// registered instead.
	EventReasonClientSecretNotRenewed = "ClientSecretNotRenewed"
	// EventReasonRegistrationDeleted: the RFC 7592 registration was deleted.
	EventReasonRegistrationDeleted = "RegistrationDeleted"
	// EventReasonRegistrationNotDeleted: it could not be; delete it by hand.
	EventReasonRegistrationNotDeleted = "RegistrationNotDeleted"

	// EventReasonTokenRefreshed: a user's token was refreshed.
	EventReasonTokenRefreshed = "TokenRefreshed"
	// EventReasonTokenExpired: a token without a refresh token expired.
	EventReasonTokenExpired = "TokenExpired"
	// EventReasonReauthorizationRequired: the grant is dead (invalid_grant);
	// the user must connect again.
	EventReasonReauthorizationRequired = "ReauthorizationRequired"
	// EventReasonClientInvalid: the token endpoint rejected the client.
	EventReasonClientInvalid = "ClientInvalid"
	// EventReasonRefreshFailed: a refresh failed transiently and is retried.
	EventReasonRefreshFailed = "RefreshFailed"
)
