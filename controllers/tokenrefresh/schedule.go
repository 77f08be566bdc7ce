package tokenrefresh

import (
	"hash/fnv"
	"time"
)

// Refresh timing (ARCHITECTURE.md, "Refresh timing").
const (
	// maxRefreshLead caps how long before expiry a token is refreshed.
	maxRefreshLead = 10 * time.Minute
	// refreshLeadFraction of a token's lifetime is the lead for short tokens.
	refreshLeadFraction = 5 // 1/5 = 20 %
	// jitterFraction of the lead is the most jitter added: refreshes of
	// tokens issued together spread out instead of arriving in one burst.
	jitterFraction = 10 // 1/10 of the lead
	// minRefreshInterval is the least time between a token's issue and its
	// refresh (the floor). Without it an authorization server answering
	// expires_in: 1 has every user's token refreshed every second, each a
	// token request and a Secret write. 30 s bounds that to two of each per
	// user per minute, and leaves every token living 39 s or more on its
	// normal schedule: 78 % of its lifetime (the earliest jittered time) is
	// past the floor. The demo's 60 s tokens are refreshed at 46.8-48 s.
	minRefreshInterval = 30 * time.Second
	// Transient failures back off exponentially from backoffBase to backoffCap.
	backoffBase = 10 * time.Second
	backoffCap  = 5 * time.Minute
)

// dueAt is when a token is refreshed: expiry minus the smaller of 10
// minutes and 20 % of its lifetime, moved earlier by up to a tenth of that
// lead. The jitter is a hash of seed (the Secret's UID and issue time), so a
// restarted manager computes the same time. Without an issue time the
// lifetime is unknown and the 10-minute cap applies.
//
// With an issue time, a refresh is never due sooner than minRefreshInterval
// after it: when the schedule could fall earlier (a lifetime under ~39 s,
// or an expiry not after the issue time), the token is due at the floor
// plus up to a tenth of it in jitter, and floored is true. Whether a token
// is floored depends on its lifetime only, not on its jitter.
func dueAt(issuedAt, expiry time.Time, seed string) (due time.Time, floored bool) {
	lead := maxRefreshLead
	if !issuedAt.IsZero() && expiry.After(issuedAt) {
		lead = min(lead, expiry.Sub(issuedAt)/refreshLeadFraction)
	}
	span := lead / jitterFraction
	if floor := issuedAt.Add(minRefreshInterval); !issuedAt.IsZero() && expiry.Add(-lead-span).Before(floor) {
		return floor.Add(seededJitter(minRefreshInterval/jitterFraction, seed)), true
	}
	return expiry.Add(-lead - seededJitter(span, seed)), false
}

// seededJitter maps seed to a duration in [0, span).
func seededJitter(span time.Duration, seed string) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	return time.Duration(h.Sum64() % uint64(span)) //nolint:gosec // G115: the remainder is below span, an int64
}

// backoffFor is the wait after the n-th consecutive transient failure.
func backoffFor(failures int) time.Duration {
	d := backoffBase
	for i := 1; i < failures && d < backoffCap; i++ {
		d *= 2
	}
	return min(d, backoffCap)
}
