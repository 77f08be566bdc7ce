package oauth

import (
	"bufio"
	"crypto/x509"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mcp-operator/mcp-operator/test/connectproxy"
)

func newConnectProxy(t *testing.T) *connectproxy.Proxy {
	t.Helper()
	p := connectproxy.New()
	t.Cleanup(p.Close)
	return p
}

// tlsTarget is an https server on 127.0.0.1 whose certificate names
// example.com, and the pool that trusts it.
func tlsTarget(t *testing.T) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}

func TestEgressProxyTunnelsToTheCheckedAddress(t *testing.T) {
	srv, pool := tlsTarget(t)
	proxy := newConnectProxy(t)
	dl := &dialLog{}
	p := EgressPolicy{
		AllowLoopback: true,
		RootCAs:       pool,
		EgressProxy:   proxy.Addr(),
		LookupIP:      resolver(map[string]string{"example.com": "127.0.0.1"}),
		DialContext:   dl.dial,
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if err := get(NewHTTPClient(p), "https://example.com:"+port+"/x"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if got := proxy.Targets(); len(got) != 1 || got[0] != "127.0.0.1:"+port {
		t.Errorf("CONNECT targets = %v, want the checked address 127.0.0.1:%s", got, port)
	}
	if got := dl.dialed(); len(got) != 1 || got[0] != proxy.Addr() {
		t.Errorf("dialled %v, want only the proxy %s", got, proxy.Addr())
	}

	// The target's certificate is verified inside the tunnel.
	p.RootCAs = x509.NewCertPool()
	err := get(NewHTTPClient(p), "https://example.com:"+port+"/x")
	if err == nil || !isTLSConfigError(err) {
		t.Errorf("untrusted certificate through the proxy: err = %v, want a certificate error", err)
	}
}

func TestEgressProxyNeverSeesABlockedTarget(t *testing.T) {
	proxy := newConnectProxy(t)
	dl := &dialLog{}
	p := EgressPolicy{
		AllowLoopback:     true,
		AllowInsecureHTTP: true,
		// The widest allow list does not lift the always-forbidden addresses.
		AllowCIDRs:  []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
		DenyCIDRs:   []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		EgressProxy: proxy.Addr(),
		LookupIP: resolver(map[string]string{
			"metadata.test":  "169.254.169.254",
			"metadata6.test": "fd00:ec2::254",
			"alibaba.test":   "100.100.100.200",
			"mixed.test":     "127.0.0.1,169.254.169.254",
			"nat64.test":     "64:ff9b::a9fe:a9fe",
			"denied.test":    "127.0.0.2",
		}),
		DialContext: dl.dial,
	}
	c := NewHTTPClient(p)
	for _, u := range []string{
		"https://metadata.test/latest/meta-data/",
		"https://metadata6.test/",
		"https://alibaba.test/",
		"https://mixed.test/",
		"https://nat64.test/",
		"https://denied.test/",
		"http://169.254.169.254/latest/meta-data/",
		"https://[fd00:ec2::254]/",
		"https://[::ffff:169.254.169.254]/",
	} {
		err := get(c, u)
		var oe *Error
		if !errors.As(err, &oe) || oe.Reason != ReasonURLBlocked {
			t.Errorf("%s: err = %v, want URLBlocked", u, err)
		}
	}
	if got := proxy.Targets(); len(got) != 0 {
		t.Errorf("the proxy received CONNECT %v", got)
	}
	if got := dl.dialed(); len(got) != 0 {
		t.Errorf("dialled %v for blocked targets", got)
	}
}

// rawProxy answers every connection with handle; it lets a test play a
// misbehaving proxy.
func rawProxy(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				_, _ = http.ReadRequest(bufio.NewReader(conn))
				handle(conn)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestEgressProxyFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handle  func(net.Conn)
		want    string
		network bool // whether the error counts as a transient network failure
	}{
		{"refused", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 403 Go away token=secret\r\nContent-Length: 0\r\n\r\n")
		}, "refused CONNECT 127.0.0.1:443 with status 403 Forbidden", false},
		{"gateway error", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		}, "status 502", true},
		{"huge answer", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Pad: "+strings.Repeat("a", 2*maxProxyResponseBytes)+"\r\n\r\n")
		}, "answer larger than", false},
		{"silent", func(net.Conn) { time.Sleep(2 * time.Second) }, "timeout", true},
		{"not http", func(c net.Conn) { _, _ = io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n") }, "malformed HTTP", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := EgressPolicy{
				AllowLoopback:  true,
				ConnectTimeout: 300 * time.Millisecond,
				EgressProxy:    rawProxy(t, tc.handle),
			}
			start := time.Now()
			err := get(NewHTTPClient(p), "https://127.0.0.1/")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the proxy's reason phrase reached the error: %v", err)
			}
			if !strings.Contains(err.Error(), p.EgressProxy) {
				t.Errorf("the error does not name the proxy: %v", err)
			}
			if got := isNetworkError(err); got != tc.network {
				t.Errorf("isNetworkError = %v, want %v", got, tc.network)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("took %v; the CONNECT exchange is not bounded by the connect timeout", d)
			}
		})
	}
}

func TestEgressProxyFlag(t *testing.T) {
	for in, want := range map[string]string{
		"http://proxy.corp:3128":   "proxy.corp:3128",
		"http://proxy.corp":        "proxy.corp:80",
		"http://10.0.0.1:8080/":    "10.0.0.1:8080",
		"http://[fd00::1]:3128":    "[fd00::1]:3128",
		"https://proxy.corp:3128":  "",
		"http://user:pw@proxy:80":  "",
		"socks5://proxy.corp:1080": "",
		"http://proxy.corp/path":   "",
		"http://:3128":             "",
		"proxy.corp:3128":          "",
	} {
		var p EgressPolicy
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		p.BindFlags(fs)
		err := fs.Parse([]string{"--egress-proxy=" + in})
		switch {
		case want == "" && err == nil:
			t.Errorf("%s: accepted as %q", in, p.EgressProxy)
		case want != "" && (err != nil || p.EgressProxy != want):
			t.Errorf("%s: got %q, %v; want %q", in, p.EgressProxy, err, want)
		}
	}
	// The flag package quotes the value it rejects; our own message does not.
	if _, err := ParseEgressProxy("http://user:pw@proxy:80"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("credentials: err = %v", err)
	}
}
