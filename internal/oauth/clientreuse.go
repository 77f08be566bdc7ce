package oauth

import (
	"fmt"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// ClientSecretExpiryMargin is how far ahead of its expiry a client secret is
// renewed (or, where it cannot be, replaced by a new registration).
const ClientSecretExpiryMargin = time.Hour

// SecretRenewalAt is when cl's client secret is due for renewal: an
// hour before it expires, or half-way through its life when that is sooner,
// so a provider that issues short-lived secrets is not asked again at every
// reconcile. Zero when the secret never expires.
func SecretRenewalAt(cl *Client) time.Time {
	if cl == nil || cl.ClientSecretExpiresAt.IsZero() {
		return time.Time{}
	}
	margin := ClientSecretExpiryMargin
	if issued := cl.ClientSecretIssuedAt; !issued.IsZero() {
		margin = min(margin, cl.ClientSecretExpiresAt.Sub(issued)/2)
	}
	return cl.ClientSecretExpiresAt.Add(-margin)
}

// ClientRequirements is what a registered client must still match to be
// kept.
type ClientRequirements struct {
	// Issuer is the authorization server's issuer now: from a fresh
	// discovery, else the last one known.
	Issuer string
	// RedirectURI is the redirect URI the client must carry now;
	// CurrentRedirectURI the one it was registered with.
	RedirectURI, CurrentRedirectURI string
	// InvalidClientID is a client ID the authorization server answered
	// invalid_client for ("" = none reported).
	InvalidClientID string
	// CIMDURL is the Client ID Metadata Document URL that would be
	// published now ("" = none can be).
	CIMDURL string
	// CIMDSupported is the authorization server's
	// client_id_metadata_document_supported from a fresh discovery; nil
	// when unknown (no fresh metadata), which does not count against CIMD.
	CIMDSupported *bool
	Now           time.Time
}

// ReplaceReason says why cur cannot be kept and a new registration is
// needed, "" when it can be kept. cur is nil when there is no client yet.
// It decides only for registered clients: a Static client always needs
// replacing, since the caller found no pre-registered client to use.
// Reasons are human text without secrets.
func ReplaceReason(cur *Client, want ClientRequirements) string {
	if cur == nil {
		return "no client was registered yet"
	}
	switch {
	case cur.Method == MethodStatic:
		return "spec.auth.oauth2 no longer names a pre-registered client"
	case cur.Issuer != want.Issuer:
		return fmt.Sprintf("the authorization server changed from %s to %s", redact.URL(cur.Issuer), redact.URL(want.Issuer))
	case want.CurrentRedirectURI != want.RedirectURI:
		return fmt.Sprintf("the redirect URI changed from %s to %s", want.CurrentRedirectURI, want.RedirectURI)
	case want.InvalidClientID != "" && want.InvalidClientID == cur.ClientID:
		return fmt.Sprintf("the authorization server no longer accepts client %s (invalid_client)", cur.ClientID)
	case cur.Method == MethodCIMD && (want.CIMDURL == "" || cur.ClientID != want.CIMDURL ||
		(want.CIMDSupported != nil && !*want.CIMDSupported)):
		return "its Client ID Metadata Document can no longer be used (callback URL or server support changed)"
	case !cur.ClientSecretExpiresAt.IsZero() && !want.Now.Before(SecretRenewalAt(cur)):
		return fmt.Sprintf("its client secret expires at %s", cur.ClientSecretExpiresAt.UTC().Format(time.RFC3339))
	}
	return ""
}
