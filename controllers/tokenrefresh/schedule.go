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
	// Transient failures back off exponentially from backoffBase to backoffCap.
	backoffBase = 10 * time.Second
	backoffCap  = 5 * time.Minute
)

// dueAt is when a token is refreshed: expiry minus the smaller of 10
// minutes and 20 % of its lifetime, moved earlier by up to a tenth of that
// lead. The jitter is a hash of seed (the Secret's UID and issue time), so a
// restarted manager computes the same time. Because the lead is at most
// 22 % of the lifetime, a freshly issued token is never already due and a
// short-lived token cannot cause a refresh loop. Without an issue time the
// lifetime is unknown and the 10-minute cap applies.
func dueAt(issuedAt, expiry time.Time, seed string) time.Time {
	lead := maxRefreshLead
	if !issuedAt.IsZero() && expiry.After(issuedAt) {
		lead = min(lead, expiry.Sub(issuedAt)/refreshLeadFraction)
	}
	return expiry.Add(-lead - seededJitter(lead/jitterFraction, seed))
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
