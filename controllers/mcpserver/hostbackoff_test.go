package mcpserver

import (
	"testing"
	"time"
)

func TestHostBackoffGrowsPerHostAndClearsOnSuccess(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b hostBackoff
	const dead, other = "https://dead.example.com/mcp", "https://fine.example.com/mcp"
	if w := b.wait(dead, now); w != 0 {
		t.Fatalf("a host never seen waits %s", w)
	}
	for i, want := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		b.observe(dead, true, now)
		if w := b.wait("https://DEAD.example.com/other/path", now); w != want {
			t.Fatalf("after %d failure(s) the host waits %s, want %s", i+1, w, want)
		}
	}
	if w := b.wait(other, now); w != 0 {
		t.Fatalf("another host waits %s", w)
	}
	for range 20 {
		b.observe(dead, true, now)
	}
	if w := b.wait(dead, now); w != hostBackoffMax {
		t.Fatalf("the wait is %s, want the cap %s", w, hostBackoffMax)
	}
	if w := b.wait(dead, now.Add(hostBackoffMax)); w != 0 {
		t.Fatalf("the wait is %s once it is over", w)
	}
	b.observe(dead, false, now)
	if w := b.wait(dead, now); w != 0 {
		t.Fatalf("a success leaves a wait of %s", w)
	}
}
