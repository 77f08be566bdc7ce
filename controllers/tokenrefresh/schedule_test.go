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
		floored       bool
	}{
		{"1h token at 50 min", time.Hour, 49 * time.Minute, 50 * time.Minute, false},
		{"24h token 10 min ahead", 24 * time.Hour, 24*time.Hour - 11*time.Minute, 24*time.Hour - 10*time.Minute, false},
		{"60s token (the demo's) at 48 s", time.Minute, 46800 * time.Millisecond, 48 * time.Second, false},
		{"39s token, the shortest on the normal schedule", 39 * time.Second, 30420 * time.Millisecond, 31200 * time.Millisecond, false},
		{"38s token floored: its jitter could reach below 30 s", 38 * time.Second, 30 * time.Second, 33 * time.Second, true},
		{"30s token floored", 30 * time.Second, 30 * time.Second, 33 * time.Second, true},
		{"1s token floored", time.Second, 30 * time.Second, 33 * time.Second, true},
		{"expiry at issue floored", 0, 30 * time.Second, 33 * time.Second, true},
		{"expiry before issue floored", -time.Hour, 30 * time.Second, 33 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spread := map[time.Duration]bool{}
			for i := range 200 {
				seed := fmt.Sprintf("uid-%d", i)
				due, floored := dueAt(t0, t0.Add(tc.lifetime), seed)
				got := due.Sub(t0)
				if got < tc.earliest || got > tc.due || floored != tc.floored {
					t.Fatalf("due after %v (floored %v), want within [%v, %v] (floored %v)", got, floored, tc.earliest, tc.due, tc.floored)
				}
				if again, _ := dueAt(t0, t0.Add(tc.lifetime), seed); !again.Equal(due) {
					t.Fatalf("jitter is not stable across calls (%v, %v)", due, again)
				}
				spread[got] = true
			}
			if len(spread) < 100 {
				t.Errorf("200 seeds gave %d distinct times: refreshes are not spread out", len(spread))
			}
		})
	}
	if got, floored := dueAt(time.Time{}, t0.Add(time.Hour), "x"); got.After(t0.Add(50*time.Minute)) || got.Before(t0.Add(49*time.Minute)) || floored {
		t.Errorf("without issue time: due %v (floored %v), want 10-11 min before expiry", got, floored)
	}
}

// TestFloorBoundsTheCadence follows a hostile authorization server's
// tokens through the schedule: each refresh issues a token living 1 s at
// the time it is due. Over 5 minutes there are at most 10 refreshes, each at
// least minRefreshInterval after the one before.
func TestFloorBoundsTheCadence(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	issued := start
	var refreshes []time.Time
	for {
		due, floored := dueAt(issued, issued.Add(time.Second), "uid/"+issued.Format(time.RFC3339))
		if !floored {
			t.Fatal("a 1 s token is not floored")
		}
		if due.After(start.Add(5 * time.Minute)) {
			break
		}
		if gap := due.Sub(issued); gap < minRefreshInterval {
			t.Fatalf("refresh %d is %v after the token's issue, want at least %v", len(refreshes)+1, gap, minRefreshInterval)
		}
		refreshes = append(refreshes, due)
		issued = due.Truncate(time.Second) // the issue time is stored in whole seconds
	}
	if n := len(refreshes); n > 10 || n < 9 {
		t.Errorf("%d refreshes in 5 minutes, want 9 or 10 (one per 30-33 s)", n)
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
