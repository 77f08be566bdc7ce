package mcpauth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Keys of a per-user token Secret (type mcpoperator.io/user-token).
const (
	KeyAccessToken  = "access_token"
	KeyTokenType    = "token_type"
	KeyRefreshToken = "refresh_token"
	KeyExpiry       = "expiry" // RFC 3339
	KeyScope        = "scope"  // space-separated
	KeyIssuer       = "issuer"
	KeyResource     = "resource"
)

// Annotations on a per-user token Secret.
const (
	// AnnotationState is the token's state, one of the State values.
	AnnotationState = "mcpoperator.io/token-state"
	// AnnotationGrantID identifies one grant (one completed connect). A new
	// connect writes a new ID, so a refresher can tell a reconnect from its
	// own earlier write.
	AnnotationGrantID = "mcpoperator.io/grant-id"
	// AnnotationIssuedAt is when the current access token was issued (RFC 3339).
	AnnotationIssuedAt = "mcpoperator.io/issued-at"
)

// State of a per-user token, as recorded in AnnotationState.
type State string

const (
	// StateActive: the access token is usable until its expiry.
	StateActive State = "Active"
	// StateReauthorizationRequired: the grant is dead; the user must connect again.
	StateReauthorizationRequired State = "ReauthorizationRequired"
	// StateExpired: the access token expired and there is no refresh token.
	StateExpired State = "Expired"
	// StateClientInvalid: the authorization server no longer knows the
	// operator's client; the operator re-registers and the user reconnects.
	StateClientInvalid State = "ClientInvalid"
)

// userHashLength is 32 hex characters (128 bits): collision-resistant and
// short enough for a label value and a Secret name.
const userHashLength = 32

// UserHash is the hash of a user ID used in names and labels. Any user ID,
// of any length and character set, maps to a valid label value.
func UserHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:])[:userHashLength]
}

// TokenSecretName names the Secret holding user's tokens for server. The
// raw user ID never appears in a name (MCPServer names are at most 63
// characters, so the result is a valid Secret name).
func TokenSecretName(server, user string) string {
	return server + "-user-" + UserHash(user)
}

// TokenSecretLabels are the labels of a user's token Secret for server;
// chat pods and the refresher select on them.
func TokenSecretLabels(server, user string) map[string]string {
	return map[string]string{
		mcpv1.LabelManagedBy: mcpv1.ManagedByValue,
		mcpv1.LabelServer:    server,
		mcpv1.LabelUserHash:  UserHash(user),
	}
}

// Routes of the callback server, relative to its public base URL.
const (
	ConnectPathPrefix        = "/connect/"
	CallbackPathPrefix       = "/callback/"
	ConnectionsPath          = "/connections"
	ClientMetadataPathPrefix = "/client-metadata/"
)

// CallbackPath is the callback route of server namespace/name.
func CallbackPath(namespace, name string) string {
	return CallbackPathPrefix + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// RedirectURI is the OAuth redirect URI of server namespace/name:
// <base>/callback/<namespace>/<name>. The manager's --callback-url and the
// callback server's --public-url both go through this one function.
func RedirectURI(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + CallbackPath(namespace, name)
}

// ConnectURL is where a chat UI sends a user to connect to namespace/name.
func ConnectURL(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + ConnectPathPrefix + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// ClientMetadataURL is the Client ID Metadata Document URL (the client ID)
// of namespace/name when its client is registered through CIMD.
func ClientMetadataURL(base, namespace, name string) string {
	return strings.TrimSuffix(base, "/") + ClientMetadataPathPrefix + url.PathEscape(namespace) + "/" + url.PathEscape(name) + ".json"
}
