package v1alpha1

// Schema bounds of MCPServer status fields, the same numbers the CRD's
// validation markers carry (markers cannot name constants; a test holds the
// two together). Code that writes status from what an untrusted server or
// authorization server said uses these, so an oversized value is cut or
// refused instead of failing every status write.
const (
	// MaxTools bounds status.tools; MaxToolNameLength each of its names.
	MaxTools          = 256
	MaxToolNameLength = 128
	// MaxURLLength bounds every URL and client ID in status.oauth2.
	MaxURLLength = 2048
	// MaxScopes bounds status.oauth2.scopes; MaxScopeLength each scope.
	MaxScopes      = 64
	MaxScopeLength = 256
	// MaxServerInfoLength bounds status.server.name and version;
	// MaxProtocolVersionLength its protocolVersion.
	MaxServerInfoLength      = 256
	MaxProtocolVersionLength = 64
)
