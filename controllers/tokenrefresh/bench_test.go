package tokenrefresh

import (
	"testing"
	"time"
)

// BenchmarkDueAt is the refresh due-time computation the refresher runs for
// every token Secret it schedules: with a known lifetime (20 % lead) and
// without an issue time (10-minute cap). Unit-level: no API server.
func BenchmarkDueAt(b *testing.B) {
	issued := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	expiry := issued.Add(time.Hour)
	seed := "3f1c2a9e-5b7d-4c1e-9a0b-8d6e4f2c1b3a/" + issued.Format(time.RFC3339)
	b.Run("lifetime-known", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = dueAt(issued, expiry, seed)
		}
	})
	b.Run("no-issue-time", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = dueAt(time.Time{}, expiry, seed)
		}
	})
}
