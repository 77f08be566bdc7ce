package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// dialLog records every address the guard lets through to the dialer. It
// connects only to 127.0.0.1 and refuses everything else, so no test ever
// sends a packet to a non-loopback address.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	host, _, _ := net.SplitHostPort(addr)
	if host != "127.0.0.1" {
		// What a real dialer returns for a refused connection; nothing is sent.
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("test dialer: refusing %s", addr)}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *dialLog) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// resolver maps names to addresses; unknown names fail.
func resolver(m map[string]string) func(context.Context, string) ([]net.IP, error) {
	return func(_ context.Context, host string) ([]net.IP, error) {
		if a, ok := m[host]; ok {
			var out []net.IP
			for _, s := range strings.Split(a, ",") {
				out = append(out, net.ParseIP(s))
			}
			return out, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
}

func get(c *http.Client, u string) error { return getKind(c, KindPRM, u) }

func getKind(c *http.Client, kind RequestKind, u string) error {
	req, _ := http.NewRequestWithContext(WithKind(context.Background(), kind), http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return err
}

func TestEgressGuardBlocks(t *testing.T) {
	names := map[string]string{
		"metadata.evil.test": "169.254.169.254",
		"mixed.evil.test":    "93.184.216.34,169.254.169.254",
		"v6meta.evil.test":   "fd00:ec2::254",
		"alibaba.evil.test":  "100.100.100.200",
		"nat64.evil.test":    "64:ff9b::a9fe:a9fe",
		"mapped.evil.test":   "::ffff:169.254.169.254",
		"compat.evil.test":   "::a9fe:a9fe",
		"nat64l.evil.test":   "64:ff9b:1::a9fe:a9fe",
		"teredo.evil.test":   "2001:0:4136:e378:8000:63bf:5601:5601",
		"lo.evil.test":       "127.0.0.1",
		"zero.evil.test":     "0.0.0.0",
		"mcast.evil.test":    "224.0.0.1",
		"ll6.evil.test":      "fe80::1",
	}
	tests := []struct {
		name   string
		policy EgressPolicy
		url    string
		flag   string // flag the message must name; "" = must name none
	}{
		{"metadata IP literal", testPolicy, "http://169.254.169.254/latest/meta-data?token=s3cr3t", ""},
		{"name resolving to metadata IP", testPolicy, "https://metadata.evil.test/x?token=s3cr3t", ""},
		{"one of several answers is metadata", testPolicy, "https://mixed.evil.test/", ""},
		{"AWS IPv6 metadata", testPolicy, "https://v6meta.evil.test/", ""},
		{"Alibaba metadata", testPolicy, "https://alibaba.evil.test/", ""},
		{"NAT64-embedded metadata", testPolicy, "https://nat64.evil.test/", ""},
		{"IPv4-mapped metadata", testPolicy, "https://mapped.evil.test/", ""},
		{"IPv4-compatible metadata", testPolicy, "https://compat.evil.test/", ""},
		{"local-use NAT64 metadata", testPolicy, "https://nat64l.evil.test/", ""},
		{"Teredo client metadata", testPolicy, "https://teredo.evil.test/", ""},
		{"unspecified", testPolicy, "https://zero.evil.test/", ""},
		{"multicast", testPolicy, "https://mcast.evil.test/", ""},
		{"IPv6 link-local", testPolicy, "https://ll6.evil.test/", ""},
		{"link-local literal", testPolicy, "https://[fe80::1]/", ""},
		{"loopback name without flag", EgressPolicy{}, "https://lo.evil.test/", "--allow-loopback-egress"},
		{"loopback literal without flag", EgressPolicy{AllowInsecureHTTP: true}, "http://127.0.0.1:1/", "--allow-loopback-egress"},
		{"localhost without flag", EgressPolicy{}, "https://localhost/", "--allow-loopback-egress"},
		{"plain http without flag", EgressPolicy{AllowLoopback: true}, "http://public.example/?token=s3cr3t", "--allow-insecure-http"},
		{"other scheme", testPolicy, "ftp://public.example/", ""},
		{"private network when blocked", EgressPolicy{BlockPrivateNetworks: true}, "https://10.1.2.3/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dl dialLog
			p := tc.policy
			p.LookupIP = resolver(names)
			p.DialContext = dl.dial
			err := get(NewHTTPClient(p), tc.url)
			e := reasonError(t, err, ReasonURLBlocked)
			if len(dl.dialed()) != 0 {
				t.Errorf("dialed %v", dl.dialed())
			}
			if IsTransient(err) || e.Transient {
				t.Error("blocked must not be transient")
			}
			// net/http wraps it in *url.Error, which quotes the raw URL;
			// library functions return the *Error itself.
			msg := e.Error()
			mustNotContain(t, msg, "s3cr3t")
			mustContain(t, msg, redact.URL(tc.url))
			if tc.flag != "" {
				mustContain(t, msg, tc.flag)
			} else {
				mustNotContain(t, msg, "--allow")
			}
		})
	}
}

func TestEgressGuardDialsCheckedIP(t *testing.T) {
	var dl dialLog
	p := EgressPolicy{LookupIP: resolver(map[string]string{"mcp.example.com": "93.184.216.34"}), DialContext: dl.dial}
	err := get(NewHTTPClient(p), "https://mcp.example.com/mcp")
	if err == nil || ReasonOf(err) == ReasonURLBlocked {
		t.Fatalf("want dial failure from the test dialer, got %v", err)
	}
	if d := dl.dialed(); len(d) != 1 || d[0] != "93.184.216.34:443" {
		t.Errorf("dialed %v, want the resolved IP", d)
	}
	if !IsTransient(err) {
		t.Errorf("a dial failure is transient: %v", err)
	}
}

func TestEgressRedirects(t *testing.T) {
	t.Run("redirect to metadata address blocked before any connection", func(t *testing.T) {
		f := newFake(t)
		f.handle("/start", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		})
		var dl dialLog
		p := testPolicy
		p.DialContext = dl.dial
		err := get(NewHTTPClient(p), f.URL()+"/start")
		wantReason(t, err, ReasonURLBlocked)
		for _, a := range dl.dialed() {
			if !strings.HasPrefix(a, "127.0.0.1:") {
				t.Errorf("dialed %s", a)
			}
		}
		mustContain(t, err.Error(), "169.254.169.254")
	})
	t.Run("redirect to a name resolving to loopback without flag", func(t *testing.T) {
		var dl dialLog
		f := newFake(t)
		f.handle("/start", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://sneaky.test/", http.StatusFound)
		})
		// Loopback allowed for the first hop only via a literal; the
		// redirect target resolves to a metadata address.
		p := testPolicy
		p.DialContext = dl.dial
		p.LookupIP = resolver(map[string]string{"sneaky.test": "169.254.169.254"})
		err := get(NewHTTPClient(p), f.URL()+"/start")
		wantReason(t, err, ReasonURLBlocked)
		for _, a := range dl.dialed() {
			if !strings.HasPrefix(a, "127.0.0.1:") {
				t.Errorf("dialed %s", a)
			}
		}
	})
	t.Run("at most 3 redirects", func(t *testing.T) {
		f := newFake(t)
		for i := 0; i < 5; i++ {
			next := fmt.Sprintf("/r%d", i+1)
			f.handle(fmt.Sprintf("/r%d", i), func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, next, http.StatusFound)
			})
		}
		f.json("/r3", map[string]string{"ok": "yes"})
		if err := get(testClient(), f.URL()+"/r0"); err != nil {
			t.Errorf("3 redirects must be followed: %v", err)
		}
		f.handle("/r3", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/r4", http.StatusFound) })
		if err := get(testClient(), f.URL()+"/r0"); err == nil || !strings.Contains(err.Error(), "redirects") {
			t.Errorf("4 redirects must fail: %v", err)
		}
	})
	t.Run("token requests are never redirected", func(t *testing.T) {
		f := newFake(t)
		f.handle("/token", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		})
		cfg := FlowConfig{Client: Client{ClientID: "c", ClientSecret: "topsecret", TokenEndpointAuthMethod: AuthMethodClientSecretPost},
			Endpoint: Endpoint{TokenEndpoint: f.URL() + "/token"}}
		_, err := Refresh(context.Background(), testClient(), cfg, "rt-123456", cfg.Resource)
		var te *TokenError
		if !errors.As(err, &te) || te.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("want TokenError 307, got %v", err)
		}
		if f.hit("/elsewhere") {
			t.Error("redirect followed with credentials in the body")
		}
	})
}

func TestEgressMetrics(t *testing.T) {
	f := newFake(t)
	f.json("/doc", map[string]string{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(requestDuration)
	_ = get(testClient(), f.URL()+"/doc?access_token=abc")
	_ = get(NewHTTPClient(EgressPolicy{}), "http://169.254.169.254/")
	if testutil.CollectAndCount(requestDuration) == 0 {
		t.Fatal("no observations")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if strings.Contains(v, "/") || strings.Contains(v, "abc") {
					t.Errorf("label %s=%q looks like a URL or token", l.GetName(), v)
				}
				seen[l.GetName()+"="+v] = true
			}
		}
	}
	for _, want := range []string{"kind=prm", "code=200", "code=blocked"} {
		if !seen[want] {
			t.Errorf("missing label %s in %v", want, seen)
		}
	}
}

// MCP traffic may use plain http to an in-cluster Service without the flag
// (the webhook admits such a spec.url); the resolved address is still checked
// and dialled by IP. OAuth requests to the same host stay blocked.
func TestEgressPlainHTTPToClusterLocalService(t *testing.T) {
	names := map[string]string{
		"mcp.tools.svc":               "10.96.0.10",
		"mcp.tools.svc.cluster.local": "10.96.0.11",
		"web-0.web.tools.svc":         "10.244.1.7",
		"evil.tools.svc":              "169.254.169.254",
		"tools.svc":                   "10.96.0.12",
	}
	policy := func(dl *dialLog) EgressPolicy {
		return EgressPolicy{LookupIP: resolver(names), DialContext: dl.dial}
	}
	allowed := []struct{ url, dialed string }{
		{"http://mcp.tools.svc:8080/mcp", "10.96.0.10:8080"},
		{"http://mcp.tools.svc.cluster.local/mcp", "10.96.0.11:80"},
		{"http://web-0.web.tools.svc/mcp", "10.244.1.7:80"},
	}
	for _, tc := range allowed {
		t.Run("mcp "+tc.url, func(t *testing.T) {
			var dl dialLog
			err := getKind(NewHTTPClient(policy(&dl)), KindMCP, tc.url)
			if err == nil || ReasonOf(err) == ReasonURLBlocked {
				t.Fatalf("want the test dialer's refusal, got %v", err)
			}
			if d := dl.dialed(); len(d) != 1 || d[0] != tc.dialed {
				t.Errorf("dialed %v, want [%s]", d, tc.dialed)
			}
		})
	}
	blockedReqs := []struct {
		kind      RequestKind
		url, flag string
	}{
		{KindMCP, "http://evil.tools.svc/mcp", ""},                              // metadata address behind a Service name
		{KindMCP, "http://tools.svc/mcp", "--allow-insecure-http"},              // no namespace label: not a Service name
		{KindMCP, "http://mcp.tools.svc.example.com/", "--allow-insecure-http"}, // only looks like one
		{KindPRM, "http://mcp.tools.svc/.well-known/oauth-protected-resource", "--allow-insecure-http"},
		{KindToken, "http://mcp.tools.svc/token", "--allow-insecure-http"},
		{KindOther, "http://mcp.tools.svc/mcp", "--allow-insecure-http"},
	}
	for _, tc := range blockedReqs {
		t.Run(string(tc.kind)+" "+tc.url, func(t *testing.T) {
			var dl dialLog
			err := getKind(NewHTTPClient(policy(&dl)), tc.kind, tc.url)
			e := reasonError(t, err, ReasonURLBlocked)
			if d := dl.dialed(); len(d) != 0 {
				t.Errorf("dialed %v", d)
			}
			if tc.flag != "" {
				mustContain(t, e.Error(), tc.flag)
			}
		})
	}
}

func TestIsClusterLocalHost(t *testing.T) {
	for h, want := range map[string]bool{
		"mcp.tools.svc":               true,
		"MCP.Tools.SVC.":              true,
		"mcp.tools.svc.cluster.local": true,
		"web-0.web.tools.svc":         true,
		"tools.svc":                   false,
		".tools.svc":                  false,
		"mcp..svc":                    false,
		"mcp.tools.svc.example.com":   false,
		"mcp.tools.cluster.local":     false,
		"svc":                         false,
	} {
		if got := IsClusterLocalHost(h); got != want {
			t.Errorf("IsClusterLocalHost(%q) = %v, want %v", h, got, want)
		}
	}
}

// The IPv4-compatible range ::/96 holds :: and ::1 too; they keep their own class.
func TestClassifyIPv6LoopbackAndUnspecified(t *testing.T) {
	if c, _ := classify(netip.MustParseAddr("::1")); c != addrLoopback {
		t.Errorf("::1 classified %v, want loopback", c)
	}
	if c, _ := classify(netip.MustParseAddr("::")); c != addrForbidden {
		t.Errorf(":: classified %v, want forbidden", c)
	}
	// Client 93.184.216.34, stored inverted. (RFC 4380's own example carries
	// 192.0.2.45, a documentation address, which is now classified special.)
	if c, _ := classify(netip.MustParseAddr("2001:0:4136:e378:8000:63bf:a247:27dd")); c != addrOK {
		t.Errorf("Teredo with a public client address classified %v, want OK", c)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost":          true,
		"LocalHost":          true,
		"localhost.":         true,
		"127.0.0.1":          true,
		"127.1.2.3":          true,
		"::1":                true,
		"::ffff:127.0.0.1":   true,
		"":                   false,
		"app.localhost":      false, // blocked by the egress guard, but not a host where plain http is allowed
		"localhost.example":  false,
		"128.0.0.1":          false,
		"0.0.0.0":            false,
		"::":                 false,
		"10.0.0.1":           false,
		"[::1]":              false, // Hostname() strips the brackets
		"mcp.tools.svc":      false,
		"127.0.0.1.nip.io":   false,
		"::ffff:10.0.0.1":    false,
		"localhost:8080":     false, // Hostname() strips the port
		"2001:db8::1":        false,
		"fe80::1%eth0":       false,
		"0:0:0:0:0:0:0:1":    true,
		"::ffff:7f00:1":      true,
		"0x7f.0.0.1":         false,
		"localhostlocalhost": false,
	} {
		if got := IsLoopbackHost(h); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}
