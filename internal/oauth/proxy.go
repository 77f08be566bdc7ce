package oauth

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// The egress proxy (--egress-proxy) tunnels every outbound connection with
// HTTP CONNECT. The guard keeps its meaning through it: the target name is
// resolved here, every answer is checked, and the CONNECT names the checked
// IP:port, not the host name. Sending the name would let the proxy resolve it
// again, to any address (metadata included) and after any rebinding; sending
// the checked address means the proxy can only reach what the guard allowed.
// TLS still verifies the certificate against the host name, inside the
// tunnel. The cost: a proxy filtering by domain sees only addresses, and the
// cluster's own DNS must resolve the targets.
//
// Plain-http targets are tunnelled too (never forwarded as proxy requests),
// so every request takes the same checked path.

// Limits of the CONNECT exchange: it must finish within the policy's connect
// timeout (at most maxProxyHandshake), and the proxy's answer (status line
// and headers) may not exceed maxProxyResponseBytes.
const (
	maxProxyHandshake     = 10 * time.Second
	maxProxyResponseBytes = 16 << 10
)

// ParseEgressProxy validates an --egress-proxy value and returns its
// host:port. Only http:// proxies without credentials are supported.
func ParseEgressProxy(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL; use http://host:port")
	}
	switch {
	case u.Scheme != "http":
		return "", fmt.Errorf("scheme %q is not supported; use http://host:port (the tunnelled connections are TLS end to end)", u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("credentials in the proxy URL are not supported; use http://host:port")
	case u.Hostname() == "":
		return "", fmt.Errorf("no host; use http://host:port")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return "", fmt.Errorf("a proxy URL has no path, query or fragment; use http://host:port")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// dialThroughProxy opens a tunnel to target (an already-checked "ip:port")
// through the policy's proxy. The proxy's own address is not checked: the
// administrator configured it. It is the only address dialled.
func (p EgressPolicy) dialThroughProxy(ctx context.Context, dial dialFunc, target string) (net.Conn, error) {
	conn, err := dial(ctx, "tcp", p.EgressProxy)
	if err != nil {
		return nil, fmt.Errorf("egress proxy %s (--egress-proxy): %w", p.EgressProxy, err)
	}
	deadline := time.Now().Add(min(p.connectTimeout(), maxProxyHandshake))
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	// A cancelled context interrupts the exchange at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	tunnel, err := p.connect(conn, target)
	if !stop() || err != nil {
		_ = conn.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return tunnel, nil
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// connect sends CONNECT target over conn and reads the proxy's answer, at
// most maxProxyResponseBytes of it.
func (p EgressPolicy) connect(conn net.Conn, target string) (net.Conn, error) {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: target},
		Host:   target,
		Header: http.Header{},
	}
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("egress proxy %s: sending CONNECT %s: %w", p.EgressProxy, target, err)
	}
	limited := &io.LimitedReader{R: conn, N: maxProxyResponseBytes}
	br := bufio.NewReader(limited)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if limited.N <= 0 {
			err = fmt.Errorf("answer larger than %d bytes", maxProxyResponseBytes)
		}
		return nil, fmt.Errorf("egress proxy %s: reading the answer to CONNECT %s: %w", p.EgressProxy, target, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The proxy's reason phrase is not repeated: it is free text from elsewhere.
		err := fmt.Errorf("egress proxy %s refused CONNECT %s with status %d %s; check the proxy's allow list and --egress-proxy",
			p.EgressProxy, target, resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode >= 500 {
			// A gateway error may pass; a refusal (403, 407) is configuration.
			return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		}
		return nil, err
	}
	if n := br.Buffered(); n > 0 {
		// Bytes the proxy sent right after its answer belong to the tunnel.
		early, _ := br.Peek(n)
		return &prefixedConn{Conn: conn, r: io.MultiReader(bytes.NewReader(early), conn)}, nil
	}
	return conn, nil
}

// prefixedConn reads bytes already received before the rest of the connection.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
