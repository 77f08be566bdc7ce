package mcpauth

import (
	"net/url"
	"strings"

	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// Keys of a per-user token Secret (type mcpoperator.io/user-token) that a
// chat pod reads (GetToken reads them for you). The refresh token and the
// operator's bookkeeping are not for chat pods: only the operator's
// refresher redeems refresh tokens.
const (
	KeyAccessToken = tokensecret.KeyAccessToken // "access_token"
	KeyTokenType   = tokensecret.KeyTokenType   // "token_type"
	KeyExpiry      = tokensecret.KeyExpiry      // "expiry", RFC 3339
	KeyScope       = tokensecret.KeyScope       // "scope", space-separated
	KeyResource    = tokensecret.KeyResource    // "resource", the RFC 8707 resource
)

// AnnotationState ("mcpoperator.io/token-state") is the token's state, one
// of the State values.
const AnnotationState = tokensecret.AnnotationState

// State of a per-user token, as recorded in AnnotationState.
type State = tokensecret.State

const (
	// StateActive means the grant is alive; GetToken returns its access token
	// until it expires, and the refresher replaces it before then when
	// there is a refresh token.
	StateActive = tokensecret.StateActive
	// StateReauthorizationRequired means the grant is dead; the user must connect again.
	StateReauthorizationRequired = tokensecret.StateReauthorizationRequired
	// StateExpired means the access token expired and there is no refresh token.
	StateExpired = tokensecret.StateExpired
	// StateClientInvalid means the authorization server no longer knows the
	// operator's client; the operator re-registers and the user reconnects.
	StateClientInvalid = tokensecret.StateClientInvalid
)

// MaxUserIDBytes is the longest user ID, in bytes, that can connect. The
// callback server seals the user ID into the sign-in cookie, and browsers
// keep a cookie of about 4 KB at most (the callback server's flow cookie
// value is held to 3800 bytes, room for 2822 bytes of flow): a 2048-byte ID
// leaves the rest of the flow (namespace and name, PKCE verifier, state,
// expiry, issuer, scopes, return_to) the room it needs, whatever the ID's
// characters. The callback server refuses longer IDs on every route, naming
// this limit, and MintTicket refuses to mint a ticket for one.
const MaxUserIDBytes = 2048

// UserHash is the hash of a user ID used in names and labels. Any user ID,
// of any length and character set, maps to a valid label value.
func UserHash(user string) string { return tokensecret.UserHash(user) }

// TokenSecretName names the Secret holding user's tokens for server. The
// raw user ID never appears in a name (MCPServer names are at most 63
// characters, so the result is a valid Secret name).
func TokenSecretName(server, user string) string { return tokensecret.Name(server, user) }

// TokenSecretLabels are the labels of a user's token Secret for server;
// chat pods and the refresher select on them.
func TokenSecretLabels(server, user string) map[string]string {
	return tokensecret.Labels(server, user)
}

// Routes of the callback server, relative to its public base URL, as
// net/http ServeMux patterns: the server registers exactly these, and the
// URL helpers below fill them in, so the two cannot drift.
const (
	ConnectPattern    = "/connect/{namespace}/{name}"
	CallbackPattern   = "/callback/{namespace}/{name}"
	ConnectionsPath   = "/connections"
	ConnectionPattern = ConnectionsPath + "/{namespace}/{name}"
	// ClientMetadataPattern's {name} is the server's name followed by ".json".
	ClientMetadataPattern = "/client-metadata/{namespace}/{name}"
)

// RoutePath fills pattern's {namespace} and {name} in, escaped.
func RoutePath(pattern, namespace, name string) string {
	return strings.NewReplacer("{namespace}", url.PathEscape(namespace), "{name}", url.PathEscape(name)).Replace(pattern)
}

// CallbackPath is the callback route of server namespace/name.
func CallbackPath(namespace, name string) string { return RoutePath(CallbackPattern, namespace, name) }

// RedirectURI is the OAuth redirect URI of server namespace/name:
// <base>/callback/<namespace>/<name>. The manager's --callback-url and the
// callback server's --public-url both go through this one function.
func RedirectURI(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + CallbackPath(namespace, name)
}

// ConnectURL is where a chat UI sends a user to connect to namespace/name.
// The callback server answers with a page naming the server and the chat
// account and one button that goes on to the authorization server. In
// ticket mode, append "?ticket=" and a ticket from MintTicket bound to
// this server, minted when the user clicks: it is accepted once.
func ConnectURL(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + RoutePath(ConnectPattern, namespace, name)
}

// ClientMetadataURL is the Client ID Metadata Document URL (the client ID)
// of namespace/name when its client is registered through CIMD.
func ClientMetadataURL(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + RoutePath(ClientMetadataPattern, namespace, name+".json")
}
