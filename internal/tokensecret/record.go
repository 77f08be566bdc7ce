package tokensecret

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Record is the decoded content of a token Secret. Its String and GoString
// name which tokens are present, never their values, so a Record that ends
// up in a log or an error leaks nothing.
type Record struct {
	Server string // the MCPServer (label)
	User   string // the raw user ID (annotation)
	// State defaults to Active for a Secret without a state annotation that
	// holds an access token.
	State    State
	GrantID  string
	IssuedAt time.Time // zero: unknown or unreadable

	AccessToken  string
	TokenType    string
	RefreshToken string
	// Expiry of the access token; zero: none recorded (it does not expire
	// as far as we know) or unreadable (then it counts as expired, see
	// AccessTokenValidAt).
	Expiry time.Time
	Scopes []string // nil when none
	Issuer string
	// Resource is the RFC 8707 resource sent at connect; "" when none was.
	Resource string
	// TokenEndpoint the refresh token belongs to; "" when not recorded.
	TokenEndpoint string
	// ClientID the tokens were issued to; "" when not recorded.
	ClientID string

	// The refresher's bookkeeping after failed refreshes.
	RefreshError        string
	RefreshFailures     int
	RefreshBackoffUntil time.Time // zero: no backoff
	// RefreshFloored is why the refresh of this token was put off to the
	// refresher's minimum interval; "" when it is on the normal schedule.
	RefreshFloored string

	badExpiry bool // an expiry is recorded but is not RFC 3339
}

// Read decodes a token Secret. It does not check the Secret's type or
// user (see BelongsTo). Unreadable times read as zero.
func Read(s *corev1.Secret) Record {
	a, d := s.Annotations, s.Data
	rec := Record{
		Server:              s.Labels[mcpv1.LabelServer],
		User:                a[mcpv1.AnnotationUser],
		State:               State(a[AnnotationState]),
		GrantID:             a[AnnotationGrantID],
		IssuedAt:            parseTime(a[AnnotationIssuedAt]),
		AccessToken:         string(d[KeyAccessToken]),
		TokenType:           string(d[KeyTokenType]),
		RefreshToken:        string(d[KeyRefreshToken]),
		Scopes:              parseScope(string(d[KeyScope])),
		Issuer:              string(d[KeyIssuer]),
		Resource:            string(d[KeyResource]),
		TokenEndpoint:       string(d[KeyTokenEndpoint]),
		ClientID:            string(d[KeyClientID]),
		RefreshError:        a[AnnotationRefreshError],
		RefreshBackoffUntil: parseTime(a[AnnotationRefreshBackoffUntil]),
		RefreshFloored:      a[AnnotationRefreshFloored],
	}
	if raw := string(d[KeyExpiry]); raw != "" {
		rec.Expiry = parseTime(raw)
		rec.badExpiry = rec.Expiry.IsZero()
	}
	rec.RefreshFailures, _ = strconv.Atoi(a[AnnotationRefreshFailures])
	if rec.State == "" && rec.AccessToken != "" {
		rec.State = StateActive
	}
	return rec
}

// Usable is the one answer to "is this user connected?": a chat pod gets
// an access token from this Secret, now or after the refresher's next run,
// without the user connecting again. That holds when the state is Active,
// there is an access token, and either
//   - there is a refresh token: the refresher keeps the access token fresh,
//     and moves the state away from Active when the grant dies; or
//   - the access token has not expired at now (expiry recorded and now
//     before it, or no expiry recorded).
//
// An Active Secret whose access token expired and that has no refresh token
// is not usable even before the refresher has marked it Expired.
func (r Record) Usable(now time.Time) bool {
	until, ok := r.UsableUntil()
	return UsableAt(until, ok, now)
}

// UsableAt is Usable at now for a Secret whose UsableUntil answered until
// and ok, for callers that keep those two instead of the tokens.
func UsableAt(until time.Time, ok bool, now time.Time) bool {
	return ok && (until.IsZero() || now.Before(until))
}

// UsableUntil is Usable over time: ok is false when the Secret is not usable
// at any time; otherwise it is usable at every instant before until (zero:
// with no end the Secret knows of). The connected-users count uses it to
// recount when a token stops being usable without anyone writing to it.
func (r Record) UsableUntil() (until time.Time, ok bool) {
	switch {
	case r.State != StateActive || r.AccessToken == "":
		return time.Time{}, false
	case r.RefreshToken != "":
		return time.Time{}, true
	case r.badExpiry:
		return time.Time{}, false
	}
	return r.Expiry, true
}

// Access is what a chat pod gets from a token Secret now: the answer of
// Record.AccessAt, shared by pkg/mcpauth.GetToken and the callback server's
// token endpoint so the two cannot disagree.
type Access int

const (
	// AccessOK means the access token is usable now and past the caller's margin.
	AccessOK Access = iota
	// AccessRefreshPending means the user is connected (Usable) and there is a
	// refresh token, but the access token expires within the margin or has
	// expired: the refresher replaces it (or is failing to); ask again later.
	AccessRefreshPending
	// AccessExpired means the access token expired, or is about to, with no
	// refresh token to replace it, or the refresher marked it Expired.
	AccessExpired
	// AccessReauthorizationRequired means the grant is dead, the operator's
	// client was retired, or there is no access token: the user connects again.
	AccessReauthorizationRequired
)

// AccessAt answers Access at now for a caller that needs the access token
// to live at least margin longer. It asks Usable first, the one rule for
// "is this user connected".
func (r Record) AccessAt(now time.Time, margin time.Duration) Access {
	switch {
	case !r.Usable(now):
		if r.State == StateExpired || (r.State == StateActive && r.AccessToken != "") {
			return AccessExpired
		}
		return AccessReauthorizationRequired
	case r.AccessTokenValidAt(now.Add(margin)):
		return AccessOK
	case r.RefreshToken != "":
		return AccessRefreshPending
	}
	return AccessExpired
}

// AccessTokenValidAt reports whether the access token exists and has not
// expired at t (no expiry recorded: it does not expire; an unreadable one
// counts as expired). It ignores the state: callers ask Usable first.
func (r Record) AccessTokenValidAt(t time.Time) bool {
	return r.AccessToken != "" && !r.badExpiry && (r.Expiry.IsZero() || t.Before(r.Expiry))
}

// String describes r without the tokens' values.
func (r Record) String() string {
	return fmt.Sprintf("tokensecret.Record{Server:%q, User:%q, State:%q, GrantID:%q, AccessToken:%s, RefreshToken:%s, Expiry:%s, RefreshFailures:%d}",
		r.Server, r.User, r.State, r.GrantID, present(r.AccessToken), present(r.RefreshToken), orNone(r.Expiry), r.RefreshFailures)
}

func orNone(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return formatTime(t)
}

// GoString keeps %#v from printing the tokens.
func (r Record) GoString() string { return r.String() }

func present(token string) string {
	if token == "" {
		return "none"
	}
	return "[redacted]"
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// formatTime is the one time format of token Secrets.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// parseScope splits a scope string, dropping duplicates; nil when empty.
func parseScope(s string) []string { return uniqueScopes(strings.Fields(s)) }

// joinScopes renders scopes as an OAuth scope string, dropping empty and
// duplicate entries (internal/oauth.JoinScopes without the import).
func joinScopes(scopes []string) string { return strings.Join(uniqueScopes(scopes), " ") }

func uniqueScopes(scopes []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range scopes {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
