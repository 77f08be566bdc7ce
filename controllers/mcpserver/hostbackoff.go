package mcpserver

import (
	"net/url"
	"strings"
	"sync"
	"time"
)

// Bounds of the per-host backoff.
const (
	hostBackoffBase = 5 * time.Second
	hostBackoffMax  = 5 * time.Minute
)

// hostBackoff remembers the MCP server hosts whose last request failed
// transiently (network error, timeout, 5xx, 429), so that a dead host is not
// retried hot: every server on it skips the network until the host's wait is
// over, base·2^(failures-1) up to hostBackoffMax. One success clears it.
type hostBackoff struct {
	mu    sync.Mutex
	hosts map[string]hostFailures
}

type hostFailures struct {
	count int
	until time.Time
}

// wait is how long requests to rawURL's host must still wait; 0 when they
// may go now.
func (b *hostBackoff) wait(rawURL string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.hosts[hostOf(rawURL)]; ok && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

// observe records the outcome of a request to rawURL's host: a transient
// failure extends its backoff, anything else clears it.
func (b *hostBackoff) observe(rawURL string, transientFailure bool, now time.Time) {
	host := hostOf(rawURL)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !transientFailure {
		delete(b.hosts, host)
		return
	}
	if b.hosts == nil {
		b.hosts = map[string]hostFailures{}
	}
	f := b.hosts[host]
	f.count++
	wait := hostBackoffMax
	if f.count < 8 { // 5 s · 2^7 > 5 min
		wait = min(hostBackoffBase<<(f.count-1), hostBackoffMax)
	}
	f.until = now.Add(wait)
	b.hosts[host] = f
}

// hostOf is rawURL's host[:port], lower-cased.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return strings.ToLower(u.Host)
}
