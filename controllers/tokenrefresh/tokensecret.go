package tokenrefresh

import (
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// tokenRecord is what the refresher reads from a per-user token Secret.
type tokenRecord struct {
	server       string
	grantID      string
	state        mcpauth.State
	hasAccess    bool
	refreshToken string
	expiry       time.Time // zero: unknown
	issuedAt     time.Time // zero: unknown
	failures     int
	backoffUntil time.Time
}

// readTokenRecord parses a token Secret. Unparseable times read as zero.
func readTokenRecord(s *corev1.Secret) tokenRecord {
	a := s.Annotations
	rec := tokenRecord{
		server:       s.Labels[mcpv1.LabelServer],
		grantID:      a[mcpauth.AnnotationGrantID],
		state:        mcpauth.State(a[mcpauth.AnnotationState]),
		hasAccess:    len(s.Data[mcpauth.KeyAccessToken]) > 0,
		refreshToken: string(s.Data[mcpauth.KeyRefreshToken]),
		expiry:       parseTime(string(s.Data[mcpauth.KeyExpiry])),
		issuedAt:     parseTime(a[mcpauth.AnnotationIssuedAt]),
		backoffUntil: parseTime(a[mcpauth.AnnotationRefreshBackoffUntil]),
	}
	rec.failures, _ = strconv.Atoi(a[mcpauth.AnnotationRefreshFailures])
	if rec.state == "" && rec.hasAccess {
		rec.state = mcpauth.StateActive
	}
	return rec
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// usable: a chat pod reading this Secret gets a token (now or after the
// refresher's next run).
func (rec tokenRecord) usable() bool { return rec.state == mcpauth.StateActive && rec.hasAccess }

// applyRefreshed writes refreshed tokens into s (a copy the caller owns):
// the rotated refresh token when the server sent one, else the current one
// stays. Failure bookkeeping is cleared.
func applyRefreshed(s *corev1.Secret, tok *oauth.Token, now time.Time) {
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[mcpauth.KeyAccessToken] = []byte(tok.AccessToken)
	s.Data[mcpauth.KeyTokenType] = []byte(tok.TokenType)
	if tok.RefreshToken != "" {
		s.Data[mcpauth.KeyRefreshToken] = []byte(tok.RefreshToken)
	}
	if tok.ExpiresIn > 0 {
		s.Data[mcpauth.KeyExpiry] = []byte(formatTime(now.Add(tok.ExpiresIn)))
	} else {
		delete(s.Data, mcpauth.KeyExpiry) // the server no longer says; the token does not expire as far as we know
	}
	if len(tok.Scopes) > 0 {
		s.Data[mcpauth.KeyScope] = []byte(strings.Join(tok.Scopes, " "))
	}
	setAnnotation(s, mcpauth.AnnotationIssuedAt, formatTime(now))
	setAnnotation(s, mcpauth.AnnotationState, string(mcpauth.StateActive))
	clearFailure(s)
}

// applyDead removes the tokens of a grant that can no longer be refreshed
// and records why; the user must connect again.
func applyDead(s *corev1.Secret, state mcpauth.State, reason string) {
	delete(s.Data, mcpauth.KeyAccessToken)
	delete(s.Data, mcpauth.KeyRefreshToken)
	setAnnotation(s, mcpauth.AnnotationState, string(state))
	clearFailure(s)
	setAnnotation(s, mcpauth.AnnotationRefreshError, reason)
}

// applyExpired marks a token without a refresh token as expired.
func applyExpired(s *corev1.Secret) {
	setAnnotation(s, mcpauth.AnnotationState, string(mcpauth.StateExpired))
}

// applyBackoff records a transient failure and when to try again.
func applyBackoff(s *corev1.Secret, reason string, failures int, until time.Time) {
	setAnnotation(s, mcpauth.AnnotationRefreshError, reason)
	setAnnotation(s, mcpauth.AnnotationRefreshFailures, strconv.Itoa(failures))
	setAnnotation(s, mcpauth.AnnotationRefreshBackoffUntil, formatTime(until))
}

func clearFailure(s *corev1.Secret) {
	delete(s.Annotations, mcpauth.AnnotationRefreshError)
	delete(s.Annotations, mcpauth.AnnotationRefreshFailures)
	delete(s.Annotations, mcpauth.AnnotationRefreshBackoffUntil)
}

func setAnnotation(s *corev1.Secret, k, v string) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[k] = v
}
