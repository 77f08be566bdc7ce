// Package connectproxy is a loopback HTTP CONNECT proxy for tests: what an
// enterprise egress proxy does, recording every CONNECT it is asked for. It
// tunnels only to 127.0.0.1 (anything else gets 403), so no test using it
// sends a packet to another address.
package connectproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Proxy is a running CONNECT proxy on 127.0.0.1.
type Proxy struct {
	srv     *httptest.Server
	mu      sync.Mutex
	targets []string
}

// New starts a proxy. Call Close when done.
func New() *Proxy {
	p := &Proxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.mu.Unlock()
	host, _, _ := net.SplitHostPort(r.Host)
	if r.Method != http.MethodConnect || host != "127.0.0.1" {
		http.Error(w, "this test proxy only tunnels to 127.0.0.1", http.StatusForbidden)
		return
	}
	upstream, err := net.Dial("tcp", r.Host) //nolint:gosec // G704: checked above to be 127.0.0.1, the only address tests use
	if err != nil {
		http.Error(w, "upstream unreachable", http.StatusBadGateway)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		_, _ = io.Copy(upstream, rw) // rw first: bytes the client sent early
		_ = upstream.Close()
	}()
	_, _ = io.Copy(conn, upstream)
	_ = conn.Close()
}

// URL is the proxy's http://127.0.0.1:port, as --egress-proxy takes it.
func (p *Proxy) URL() string { return p.srv.URL }

// Addr is the proxy's 127.0.0.1:port.
func (p *Proxy) Addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// Targets are the CONNECT targets asked for so far, refused ones included.
func (p *Proxy) Targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// Close stops the proxy and its tunnels.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}
