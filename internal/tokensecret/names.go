// Package tokensecret is the codec of per-user token Secrets (type
// mcpoperator.io/user-token): the only code that knows their name, labels,
// annotations and keys. The callback server writes a new grant with
// WriteGrant, the refresher changes it with the Apply functions, and every
// reader (the refresher, the connected-users count, the callback server's
// /connections and pkg/mcpauth.GetToken) decodes it with Read and asks
// Record.Usable whether the user is connected.
//
// The package does no I/O: callers get and write Secrets with their own
// clients. pkg/mcpauth re-exports the names chat pods read; everything else
// here (grant ID, issue time, refresh bookkeeping) is the operator's own.
package tokensecret

import (
	"crypto/sha256"
	"encoding/hex"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Keys of a token Secret's data.
const (
	KeyAccessToken  = "access_token"
	KeyTokenType    = "token_type"
	KeyRefreshToken = "refresh_token"
	KeyExpiry       = "expiry" // RFC 3339; absent: the access token does not expire as far as we know
	KeyScope        = "scope"  // space-separated
	KeyIssuer       = "issuer"
	// KeyResource is the RFC 8707 resource sent on the authorization
	// request and the code exchange (the discovered one, or
	// spec.auth.oauth2.resourceIndicator.value); absent when none was sent
	// (resourceIndicator.send: Never, or a server without one). A refresh
	// sends this value, never the server's current one.
	KeyResource = "resource"
	// KeyTokenEndpoint is the token endpoint the refresh token is redeemed
	// at: where the code was exchanged, then where the last refresh went.
	// Absent in Secrets written before it was recorded.
	KeyTokenEndpoint = "token_endpoint"
	// KeyClientID is the OAuth client the tokens were issued to. A retired
	// client takes only its own users' Secrets with it. Absent in Secrets
	// written before it was recorded.
	KeyClientID = "client_id"
)

// Annotations of a token Secret (besides mcpv1.AnnotationUser, the raw user ID).
const (
	// AnnotationState is the token's state, one of the State values. Public:
	// pkg/mcpauth re-exports it.
	AnnotationState = "mcpoperator.io/token-state"
	// AnnotationGrantID identifies one grant (one completed connect). Every
	// WriteGrant writes a new ID, so the refresher can tell a reconnect from
	// its own earlier write.
	AnnotationGrantID = "mcpoperator.io/grant-id"
	// AnnotationIssuedAt is when the current access token was issued (RFC
	// 3339); the refresh schedule derives from it.
	AnnotationIssuedAt = "mcpoperator.io/issued-at"
	// AnnotationRefreshError is a short reason for the last failed refresh,
	// e.g. "invalid_grant" or "HTTP 503"; never a token. Cleared by the next
	// successful refresh.
	AnnotationRefreshError = "mcpoperator.io/refresh-error"
	// AnnotationRefreshFailures counts consecutive transient refresh failures.
	AnnotationRefreshFailures = "mcpoperator.io/refresh-failures"
	// AnnotationRefreshBackoffUntil is when the refresher tries again (RFC 3339).
	AnnotationRefreshBackoffUntil = "mcpoperator.io/refresh-backoff-until"
	// AnnotationRefreshFloored says, in a short sentence, that the access
	// token lives too briefly to be refreshed before it expires at the
	// refresher's normal cadence, so its refresh was put off to the
	// refresher's minimum interval after issue; the access token may be
	// expired for part of each interval. Absent for tokens on the normal
	// schedule. The refresher keeps it in step with the current token.
	AnnotationRefreshFloored = "mcpoperator.io/refresh-floored"
	// AnnotationRefreshTokenKept says that the last connect's token
	// response carried no refresh token and the one stored before was kept
	// (its value: the issue time recorded with that refresh token, RFC
	// 3339). Cleared when a refresh rotates the refresh token.
	// Providers such as Google issue a refresh token only at first consent.
	AnnotationRefreshTokenKept = "mcpoperator.io/refresh-token-kept" //nolint:gosec // G101: an annotation name, not a credential
)

// State of a per-user token, as recorded in AnnotationState.
type State string

const (
	// StateActive means the grant is alive; see Record.Usable for when a token
	// in this state can be used.
	StateActive State = "Active"
	// StateReauthorizationRequired means the grant is dead; the user must connect again.
	StateReauthorizationRequired State = "ReauthorizationRequired"
	// StateExpired means the access token expired and there is no refresh token.
	StateExpired State = "Expired"
	// StateClientInvalid means the authorization server no longer knows the
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

// Name is the name of the Secret holding user's tokens for server. The raw
// user ID never appears in a name (MCPServer names are at most 63
// characters, so the result is a valid Secret name).
func Name(server, user string) string {
	return server + "-user-" + UserHash(user)
}

// Labels are the labels of user's token Secret for server; chat pods and
// the refresher select on them.
func Labels(server, user string) map[string]string {
	return map[string]string{
		mcpv1.LabelManagedBy: mcpv1.ManagedByValue,
		mcpv1.LabelServer:    server,
		mcpv1.LabelUserHash:  UserHash(user),
	}
}

// BelongsTo reports whether s is a token Secret of user. The name is a
// hash: a Secret of another type, or one whose recorded user differs (a
// hash collision or a foreign object under our name), must be treated as
// absent, so a user only ever sees their own tokens.
func BelongsTo(s *corev1.Secret, user string) bool {
	return s.Type == mcpv1.SecretTypeUserToken && s.Annotations[mcpv1.AnnotationUser] == user
}

// ControlledBy reports whether the token Secret s (its metadata suffices)
// is one srv controls: in srv's namespace, labelled for srv, and with a
// controller reference to srv itself (by UID, so a Secret left from an
// earlier MCPServer of the same name does not count). WriteGrant writes
// exactly that. The refresher redeems and counts only such Secrets: any
// other Secret with the token Secret's label and type is a look-alike whose
// refresh token it does not know the origin of.
func ControlledBy(s metav1.Object, srv *mcpv1.MCPServer) bool {
	if srv.UID == "" || s.GetNamespace() != srv.Namespace || s.GetLabels()[mcpv1.LabelServer] != srv.Name {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(s)
	if ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == mcpv1.GroupVersion.Group && ref.Kind == "MCPServer" &&
		ref.Name == srv.Name && ref.UID == srv.UID
}
