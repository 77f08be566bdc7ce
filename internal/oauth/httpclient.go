package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Defaults of the egress client.
const (
	DefaultTimeout        = 15 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultMaxBodyBytes   = 1 << 20 // 1 MiB
	MaxRedirects          = 3
)

// EgressPolicy configures the outbound HTTP client. The zero value is the
// production policy: https only, no loopback, default timeouts and limits.
//
// Link-local (169.254.0.0/16, fe80::/10), unspecified, multicast and cloud
// metadata addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200) are
// always blocked. Addresses are checked after DNS resolution, at dial time,
// and the checked address is the one dialled.
//
// Environment proxies (HTTPS_PROXY) are not used: a proxy resolving names
// itself would make the dial-time check meaningless. An explicit
// --egress-proxy is, because the tunnel names the checked address.
type EgressPolicy struct {
	AllowLoopback     bool // --allow-loopback-egress: loopback addresses and localhost
	AllowInsecureHTTP bool // --allow-insecure-http: plain http URLs

	// BlockPrivateNetworks additionally blocks private-use addresses (RFC 1918,
	// RFC 4193, CGNAT 100.64.0.0/10, benchmarking 198.18.0.0/15).
	// Off by default: in-cluster MCP servers live on private addresses.
	BlockPrivateNetworks bool // --block-private-networks

	// AllowCIDRs lifts BlockPrivateNetworks and the special-purpose block
	// (documentation, reserved) for these ranges; DenyCIDRs blocks its ranges
	// whatever else allows them. Deny wins over allow. Neither touches the
	// always-forbidden addresses nor the loopback flag.
	AllowCIDRs []netip.Prefix // --egress-allow-cidrs
	DenyCIDRs  []netip.Prefix // --egress-deny-cidrs

	Timeout        time.Duration // whole request including redirects and body; default 15s
	ConnectTimeout time.Duration // TCP connect and TLS handshake; default 5s
	MaxBodyBytes   int64         // response body cap; default 1 MiB

	// RootCAs replaces the system roots (tests, private CAs); --trust-bundle
	// sets it to the system roots plus the bundle. Verification itself can
	// never be switched off.
	RootCAs *x509.CertPool

	// EgressProxy is the host:port of an HTTP CONNECT proxy every connection
	// is tunnelled through (--egress-proxy), after the target's addresses
	// were checked; see proxy.go. Empty: direct connections.
	EgressProxy string

	// ownTrust marks a client that trusts a server's own CA bundle
	// (TrustedClients); see sharedTrust.
	ownTrust bool

	// Test hooks. LookupIP replaces DNS resolution; DialContext replaces the
	// TCP dial and receives the already-checked "ip:port", or the proxy's
	// address when EgressProxy is set.
	LookupIP    func(ctx context.Context, host string) ([]net.IP, error)
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (p EgressPolicy) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

func (p EgressPolicy) connectTimeout() time.Duration {
	if p.ConnectTimeout > 0 {
		return p.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (p EgressPolicy) maxBody() int64 {
	if p.MaxBodyBytes > 0 {
		return p.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// NewHTTPClient returns the outbound HTTP client every OAuth and MCP request
// of the operator must use. See EgressPolicy for the guard. Responses are
// instrumented (see RequestKind) and their bodies fail with
// ErrResponseTooLarge past the size cap instead of being silently cut.
// Requests of kind token, revoke and register are never redirected, so
// credentials in a body are not replayed to another URL.
func NewHTTPClient(p EgressPolicy) *http.Client {
	base := &http.Transport{
		Proxy:                  nil,
		DialContext:            p.guardedDial,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.RootCAs},
		TLSHandshakeTimeout:    p.connectTimeout(),
		ResponseHeaderTimeout:  p.timeout(),
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           50,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport:     &guardTransport{policy: p, base: base},
		Timeout:       p.timeout(),
		CheckRedirect: p.checkRedirect,
	}
}

func (p EgressPolicy) checkRedirect(req *http.Request, via []*http.Request) error {
	switch kindOf(req.Context()) {
	case KindToken, KindRevoke, KindRegister:
		return http.ErrUseLastResponse
	}
	if len(via) > MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	return p.checkURL(req.URL, kindOf(req.Context()))
}

// guardTransport checks every request (the first and each redirect hop)
// against the policy before it is sent, records its duration and caps the
// response body.
type guardTransport struct {
	policy EgressPolicy
	base   *http.Transport
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := kindOf(req.Context())
	start := time.Now()
	if err := t.policy.checkURL(req.URL, kind); err != nil {
		observeRequest(kind, "blocked", start)
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		var b *blockedAddr
		if errors.As(err, &b) {
			observeRequest(kind, "blocked", start)
			return nil, blocked(redact.URL(req.URL.String()), b.why, b.flag)
		}
		observeRequest(kind, "error", start)
		return nil, err
	}
	observeRequest(kind, strconv.Itoa(resp.StatusCode), start)
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.policy.maxBody(), limit: t.policy.maxBody(),
		url: redact.URL(req.URL.String())}
	return resp, nil
}

// ErrResponseTooLarge is returned while reading a response body larger than
// the policy's MaxBodyBytes.
var ErrResponseTooLarge = errors.New("response body too large")

type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
	limit     int64
	url       string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("response from %s exceeds %d bytes: %w", b.url, b.limit, ErrResponseTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// policyOf returns the policy of a client built by NewHTTPClient. For other
// clients it returns a permissive policy, so that only the always-forbidden
// addresses are refused by static URL checks.
func policyOf(c *http.Client) EgressPolicy {
	if c != nil {
		if gt, ok := c.Transport.(*guardTransport); ok {
			return gt.policy
		}
	}
	return EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}
}

// clientOrDefault returns c, or a client with the production policy.
func clientOrDefault(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return NewHTTPClient(EgressPolicy{})
}

// isNetworkError reports network-level failures: dial, TLS, timeouts, resets.
func isNetworkError(err error) bool {
	if err == nil {
		return false
	}
	var be *Error
	if errors.As(err, &be) && be.Reason == ReasonURLBlocked {
		return false
	}
	if errors.Is(err, ErrResponseTooLarge) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	// Every transport failure arrives as a *url.Error, which is a net.Error
	// whatever its cause: look inside. A certificate the trust roots reject,
	// TLS spoken to a plain port and a refused redirect are configuration,
	// and retrying them only hides that.
	if isTLSConfigError(err) {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLSConfigError reports a certificate or TLS-protocol failure that
// retrying cannot fix.
func isTLSConfigError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	return errors.As(err, &verify) || errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &record)
}
