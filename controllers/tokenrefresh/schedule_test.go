package tokenrefresh

import (
	"fmt"
	"testing"
	"time"
)

func TestDueAt(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name          string
		lifetime      time.Duration
		earliest, due time.Duration // from t0: due lies in [earliest, due]
	}{
		{"1h token at 50 min", time.Hour, 49 * time.Minute, 50 * time.Minute},
		{"30s token at 24 s", 30 * time.Second, 23400 * time.Millisecond, 24 * time.Second},
		{"1s token never due at issue", time.Second, 780 * time.Millisecond, 800 * time.Millisecond},
		{"24h token 10 min ahead", 24 * time.Hour, 24*time.Hour - 11*time.Minute, 24*time.Hour - 10*time.Minute},
	}
	for _, tc := range cases {
		for i := range 200 {
			seed := fmt.Sprintf("uid-%d", i)
			got := dueAt(t0, t0.Add(tc.lifetime), seed).Sub(t0)
			if got < tc.earliest || got > tc.due {
				t.Fatalf("%s: due after %v, want within [%v, %v]", tc.name, got, tc.earliest, tc.due)
			}
			if again := dueAt(t0, t0.Add(tc.lifetime), seed).Sub(t0); again != got {
				t.Fatalf("%s: jitter is not stable across calls (%v, %v)", tc.name, got, again)
			}
		}
	}
	if got := dueAt(time.Time{}, t0.Add(time.Hour), "x"); got.After(t0.Add(50*time.Minute)) || got.Before(t0.Add(49*time.Minute)) {
		t.Errorf("without issue time: due %v, want 10-11 min before expiry", got)
	}
}

func TestBackoffIsExponentialAndCapped(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := backoffFor(i + 1); got != w {
			t.Errorf("backoffFor(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoffFor(1000); got != backoffCap {
		t.Errorf("backoffFor(1000) = %v", got)
	}
}
