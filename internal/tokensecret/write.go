package tokensecret

import (
	"crypto/rand"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Tokens is a token endpoint's answer, as stored.
type Tokens struct {
	AccessToken string
	TokenType   string
	// RefreshToken: "" means none was issued (a new grant) or the server
	// did not rotate it (a refresh: the stored one stays).
	RefreshToken string
	// Expiry of the access token; zero: the server announced no lifetime.
	Expiry time.Time
	// Scopes granted. A new grant always records them; a refresh only when
	// the server named them.
	Scopes []string
}

// Grant is a completed connect: what the callback server stores.
type Grant struct {
	User   string
	Tokens Tokens
	Issuer string // the authorization server that issued the tokens
	// Resource is the RFC 8707 resource sent on the authorization request
	// and the code exchange: what the tokens are for, and what a refresh
	// may name. "" (key absent) when none was sent.
	Resource string
	// TokenEndpoint is where the code was exchanged: the only place the
	// refresh token is ever sent.
	TokenEndpoint string
	ClientID      string // the client the code was exchanged by
	IssuedAt      time.Time
}

// WriteGrant encodes g as user's token Secret for srv into sec, a new
// Secret or the existing one under the same name (its resourceVersion is
// kept for the update): name, namespace, type, labels, a controller
// reference to srv, annotations (state Active, a new grant ID, the issue
// time) and data. Labels, annotations, data and owner references are
// replaced, not merged, so nothing of an earlier grant survives, with one
// exception: when g carries no refresh token and the existing Secret holds
// one from the same authorization server and client for the same user and
// resource, it is kept (see AnnotationRefreshTokenKept).
func WriteGrant(sec *corev1.Secret, srv *mcpv1.MCPServer, g Grant) {
	keptRefresh, keptSince := refreshTokenToKeep(sec, g)
	sec.Namespace = srv.Namespace
	sec.Name = Name(srv.Name, g.User)
	sec.Type = mcpv1.SecretTypeUserToken
	sec.Labels = Labels(srv.Name, g.User)
	sec.Annotations = map[string]string{
		mcpv1.AnnotationUser: g.User,
		AnnotationState:      string(StateActive),
		AnnotationGrantID:    rand.Text(),
		AnnotationIssuedAt:   formatTime(g.IssuedAt),
	}
	sec.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(srv, mcpv1.GroupVersion.WithKind("MCPServer"))}
	t := g.Tokens
	sec.Data = map[string][]byte{
		KeyAccessToken: []byte(t.AccessToken),
		KeyTokenType:   []byte(t.TokenType),
		KeyScope:       []byte(joinScopes(t.Scopes)),
		KeyIssuer:      []byte(g.Issuer),
	}
	if g.Resource != "" {
		sec.Data[KeyResource] = []byte(g.Resource)
	}
	if t.RefreshToken != "" {
		sec.Data[KeyRefreshToken] = []byte(t.RefreshToken)
	} else if keptRefresh != "" {
		sec.Data[KeyRefreshToken] = []byte(keptRefresh)
		sec.Annotations[AnnotationRefreshTokenKept] = keptSince
	}
	if !t.Expiry.IsZero() {
		sec.Data[KeyExpiry] = []byte(formatTime(t.Expiry))
	}
	if g.TokenEndpoint != "" {
		sec.Data[KeyTokenEndpoint] = []byte(g.TokenEndpoint)
	}
	if g.ClientID != "" {
		sec.Data[KeyClientID] = []byte(g.ClientID)
	}
	sec.StringData = nil
}

// refreshTokenToKeep is the refresh token of the existing Secret sec that
// a new grant g without one keeps, and since when it is stored; "" when
// there is none to keep: g has its own, or the stored one belongs to
// another user, authorization server, token endpoint, client or resource
// (or to no known client), or the stored grant is dead.
func refreshTokenToKeep(sec *corev1.Secret, g Grant) (token, since string) {
	if g.Tokens.RefreshToken != "" || sec.Data == nil {
		return "", ""
	}
	old := Read(sec)
	same := old.User == g.User && old.Issuer == g.Issuer && old.TokenEndpoint == g.TokenEndpoint &&
		old.ClientID != "" && old.ClientID == g.ClientID && old.Resource == g.Resource
	if !same || old.RefreshToken == "" || old.State != StateActive {
		return "", ""
	}
	since = sec.Annotations[AnnotationRefreshTokenKept]
	if since == "" {
		since = formatTime(old.IssuedAt)
	}
	return old.RefreshToken, since
}

// The refresher's mutations. Each changes s, a copy the caller owns and
// then writes with a resourceVersion precondition.

// ApplyRefreshed stores refreshed tokens issued at issuedAt: the rotated
// refresh token when the server sent one, else the current one stays; no
// expiry removes the recorded one; scopes change only when the server named
// them. The state becomes Active and the failure bookkeeping is cleared.
func ApplyRefreshed(s *corev1.Secret, t Tokens, issuedAt time.Time) {
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[KeyAccessToken] = []byte(t.AccessToken)
	s.Data[KeyTokenType] = []byte(t.TokenType)
	if t.RefreshToken != "" {
		s.Data[KeyRefreshToken] = []byte(t.RefreshToken)
		delete(s.Annotations, AnnotationRefreshTokenKept)
	}
	if !t.Expiry.IsZero() {
		s.Data[KeyExpiry] = []byte(formatTime(t.Expiry))
	} else {
		delete(s.Data, KeyExpiry) // the server no longer says; the token does not expire as far as we know
	}
	if len(t.Scopes) > 0 {
		s.Data[KeyScope] = []byte(joinScopes(t.Scopes))
	}
	setAnnotation(s, AnnotationIssuedAt, formatTime(issuedAt))
	setAnnotation(s, AnnotationState, string(StateActive))
	clearFailure(s)
}

// ApplyTokenEndpoint records the token endpoint a refresh went to, which
// binds the refresh token from then on (see KeyTokenEndpoint); a Secret
// written before token endpoints were recorded gets one at its first refresh.
func ApplyTokenEndpoint(s *corev1.Secret, tokenEndpoint string) {
	if tokenEndpoint == "" {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[KeyTokenEndpoint] = []byte(tokenEndpoint)
}

// ApplyDead removes the tokens of a grant that can no longer be refreshed
// and records the terminal state (StateReauthorizationRequired or
// StateClientInvalid) and why; the user must connect again. Nothing is
// refreshed any more, so no floor is noted.
func ApplyDead(s *corev1.Secret, state State, reason string) {
	delete(s.Data, KeyAccessToken)
	delete(s.Data, KeyRefreshToken)
	setAnnotation(s, AnnotationState, string(state))
	clearFailure(s)
	setAnnotation(s, AnnotationRefreshError, reason)
	delete(s.Annotations, AnnotationRefreshFloored)
}

// ApplyExpired marks a token without a refresh token as expired.
func ApplyExpired(s *corev1.Secret) {
	setAnnotation(s, AnnotationState, string(StateExpired))
	delete(s.Annotations, AnnotationRefreshFloored)
}

// ApplyRefreshFloored records why the token's refresh was put off to the
// refresher's minimum interval (AnnotationRefreshFloored), or removes the
// note when why is "". A refresh keeps the note: the refresher revises it
// when the new token's lifetime calls for it.
func ApplyRefreshFloored(s *corev1.Secret, why string) {
	if why == "" {
		delete(s.Annotations, AnnotationRefreshFloored)
		return
	}
	setAnnotation(s, AnnotationRefreshFloored, why)
}

// ApplyBackoff records a transient refresh failure: why, how many in a row,
// and when to try again.
func ApplyBackoff(s *corev1.Secret, reason string, failures int, until time.Time) {
	setAnnotation(s, AnnotationRefreshError, reason)
	setAnnotation(s, AnnotationRefreshFailures, strconv.Itoa(failures))
	setAnnotation(s, AnnotationRefreshBackoffUntil, formatTime(until))
}

func clearFailure(s *corev1.Secret) {
	delete(s.Annotations, AnnotationRefreshError)
	delete(s.Annotations, AnnotationRefreshFailures)
	delete(s.Annotations, AnnotationRefreshBackoffUntil)
}

func setAnnotation(s *corev1.Secret, k, v string) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[k] = v
}
