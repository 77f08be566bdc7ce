package oauth

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Address classes the egress guard distinguishes.
type addrClass int

const (
	addrOK addrClass = iota
	addrLoopback
	addrPrivate   // private-use: RFC 1918, RFC 4193, CGNAT, benchmarking
	addrSpecial   // special-purpose, never a real server: documentation, reserved, IETF protocol ranges
	addrForbidden // never allowed, whatever the flags say
)

// Cloud metadata services that are reachable without being link-local.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack (also link-local)
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata (also link-local)
}

var (
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")
	nat64LocalPrefix = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local-use NAT64
	ipv4Compatible   = netip.MustParsePrefix("::/96")          // deprecated ::a.b.c.d
	sixToFour        = netip.MustParsePrefix("2002::/16")
	teredo           = netip.MustParsePrefix("2001::/32")
	thisNetwork      = netip.MustParsePrefix("0.0.0.0/8")
)

// Private-use ranges netip's IsPrivate does not know. In-cluster and
// corporate networks use them as they use RFC 1918, so they follow
// --block-private-networks.
var extraPrivate = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT, RFC 6598 (some pod and VPN networks)
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking, RFC 2544
	netip.MustParsePrefix("2001:2::/48"),   // benchmarking, RFC 5180
}

// IANA special-purpose ranges no MCP or authorization server lives on. They
// are blocked unless --egress-allow-cidrs names them.
var specialPurpose = []netip.Prefix{
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments, RFC 6890
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1, RFC 5737
	netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, RFC 1112
	netip.MustParsePrefix("100::/64"),        // discard-only, RFC 6666
	netip.MustParsePrefix("2001:db8::/32"),   // documentation, RFC 3849
	netip.MustParsePrefix("3fff::/20"),       // documentation, RFC 9637
}

func inAny(prefixes []netip.Prefix, ip netip.Addr) bool {
	return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// embeddedIPv4 returns the IPv4 address an IPv6 address carries (NAT64,
// IPv4-compatible, 6to4, Teredo), if any. Mapped addresses are unmapped by
// the callers.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() || ip.Is4In6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip), nat64LocalPrefix.Contains(ip),
		ipv4Compatible.Contains(ip) && !ip.IsLoopback() && !ip.IsUnspecified():
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case teredo.Contains(ip): // the client address is stored inverted
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}

// inList reports whether ip, or the IPv4 address it embeds, is in prefixes,
// so a list entry cannot be sidestepped by spelling the address differently.
func inList(prefixes []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if e, ok := embeddedIPv4(ip); ok && inAny(prefixes, e) {
		return true
	}
	return inAny(prefixes, ip)
}

// classify says whether ip may be dialled, and why not. IPv4 addresses
// embedded in IPv6 (mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged
// by the embedded address too, so the guard cannot be sidestepped by
// spelling an address differently.
func classify(ip netip.Addr) (addrClass, string) {
	ip = ip.Unmap().WithZone("")
	if embedded, ok := embeddedIPv4(ip); ok {
		if c, why := classify(embedded); c != addrOK {
			return c, why
		}
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return addrForbidden, "a cloud metadata address"
		}
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), thisNetwork.Contains(ip):
		return addrForbidden, "an unspecified address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return addrForbidden, "a link-local address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast(), ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return addrForbidden, "a multicast or broadcast address"
	case ip.IsLoopback():
		return addrLoopback, "a loopback address"
	case ip.IsPrivate(), inAny(extraPrivate, ip):
		return addrPrivate, "a private address"
	case inAny(specialPurpose, ip):
		return addrSpecial, "a special-purpose (documentation or reserved) address"
	}
	return addrOK, ""
}

// checkAddr applies the policy to one resolved address. The result, when
// not nil, is a *blockedAddr that the transport turns into a URLBlocked
// *Error naming the request URL.
//
// Order: forbidden addresses (metadata, link-local, ...) are refused whatever
// the lists say; then --egress-deny-cidrs, which wins over the allow list so
// an administrator can carve a hole out of an allowed range; then
// --egress-allow-cidrs, which lifts --block-private-networks and the
// special-purpose block but never the loopback flag (loopback is for tests).
func (p EgressPolicy) checkAddr(ip netip.Addr) *blockedAddr {
	class, why := classify(ip)
	if class == addrForbidden {
		return &blockedAddr{fmt.Sprintf("its address %s is %s; requests there are never allowed", ip, why), ""}
	}
	if inList(p.DenyCIDRs, ip) {
		return &blockedAddr{fmt.Sprintf("its address %s is in --egress-deny-cidrs", ip), ""}
	}
	allowed := inList(p.AllowCIDRs, ip)
	switch class {
	case addrLoopback:
		if !p.AllowLoopback {
			return &blockedAddr{fmt.Sprintf("its address %s is %s", ip, why), "--allow-loopback-egress"}
		}
	case addrPrivate:
		if p.BlockPrivateNetworks && !allowed {
			return &blockedAddr{fmt.Sprintf("its address %s is %s, and --block-private-networks is on (--egress-allow-cidrs can allow a range)", ip, why), ""}
		}
	case addrSpecial:
		if !allowed {
			return &blockedAddr{fmt.Sprintf("its address %s is %s (--egress-allow-cidrs can allow a range)", ip, why), ""}
		}
	}
	return nil
}

// blockedAddr is the dialer's refusal; why explains, flag names the operator
// flag that would allow the address, if any.
type blockedAddr struct{ why, flag string }

func (b *blockedAddr) Error() string { return "address blocked: " + b.why }

// checkURL applies the static part of the policy to a URL before any
// connection is made: the scheme, and the host when it is an IP literal or a
// localhost name. Names are checked again, after resolution, at dial time.
// kind is what the request is for: only MCP traffic may use plain http to an
// in-cluster Service without the flag.
func (p EgressPolicy) checkURL(u *url.URL, kind RequestKind) error {
	target := redact.URL(u.String())
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		// An in-cluster MCP server (spec.url, admitted by the webhook) is often
		// plain http and its traffic stays in the cluster. OAuth requests are
		// not exempt: their URLs come from documents others serve, and they
		// carry secrets. Addresses are still checked at dial time.
		if !p.AllowInsecureHTTP && (kind != KindMCP || !IsClusterLocalHost(u.Hostname())) {
			return blocked(target, "it uses plain http; use an https URL", "--allow-insecure-http")
		}
	default:
		return blocked(target, fmt.Sprintf("scheme %q is not allowed; use an https URL", u.Scheme), "")
	}
	host := u.Hostname()
	if host == "" {
		return blocked(target, "it has no host", "")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if b := p.checkAddr(ip); b != nil {
			return blocked(target, b.why, b.flag)
		}
		return nil
	}
	// IP literals were classified above. Names under .localhost are blocked
	// too (RFC 6761 lets resolvers map them to loopback), although only
	// localhost itself counts as a loopback host where plain http is allowed.
	if IsLoopbackHost(host) || strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".localhost") {
		if !p.AllowLoopback {
			return blocked(target, "it names localhost, a loopback address", "--allow-loopback-egress")
		}
	}
	return nil
}

// blocked builds the URLBlocked error. flag names the operator flag that would
// allow the request, when one would.
func blocked(target, why, flag string) *Error {
	msg := fmt.Sprintf("outbound request to %s blocked: %s", target, why)
	if flag != "" {
		msg += fmt.Sprintf(" (start the operator with %s to allow it; meant for tests and demos)", flag)
	}
	return &Error{Reason: ReasonURLBlocked, URL: target, Message: msg}
}

// guardedDial resolves addr, checks every resolved address and dials only
// addresses that passed, by IP, so no second resolution can change the
// answer between check and connect (DNS rebinding).
func (p EgressPolicy) guardedDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		lookup := p.LookupIP
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]net.IP, error) {
				return net.DefaultResolver.LookupIP(ctx, "ip", host)
			}
		}
		res, err := lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if a, ok := netip.AddrFromSlice(r); ok {
				ips = append(ips, a.Unmap())
			}
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	// Refuse when any answer is blocked: a name mixing public and internal
	// answers is an attack, not a configuration.
	for _, ip := range ips {
		if b := p.checkAddr(ip); b != nil {
			return nil, b
		}
	}
	dial := p.DialContext
	if dial == nil {
		d := &net.Dialer{Timeout: p.connectTimeout(), KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	var firstErr error
	for _, ip := range ips {
		conn, err := p.dialChecked(ctx, dial, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// dialChecked connects to an address the guard has checked: directly, or
// through the egress proxy.
func (p EgressPolicy) dialChecked(ctx context.Context, dial dialFunc, network, addr string) (net.Conn, error) {
	if p.EgressProxy != "" {
		return p.dialThroughProxy(ctx, dial, addr)
	}
	return dial(ctx, network, addr)
}

// IsLoopbackHost reports whether h (a URL's Hostname()) is a loopback host:
// localhost (any case, with or without the trailing dot) or a loopback IP
// literal (127.0.0.0/8, ::1, and IPv4-mapped forms). It is the one answer
// to "may plain http go here because it stays on the node?", used by the
// webhook, redirect URI validation and the egress guard.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(strings.TrimSuffix(h, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Unmap().IsLoopback()
}

// IsClusterLocalHost reports whether h names an in-cluster Service: a name
// under .svc or .svc.cluster.local with at least a service and a namespace
// label in front (a headless Service's pods, web-0.web.ns.svc, have one more).
// The webhook admits plain http to these; the egress guard lets MCP traffic
// (not OAuth requests) reach them over plain http.
func IsClusterLocalHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	for _, suffix := range []string{".svc.cluster.local", ".svc"} {
		if name, ok := strings.CutSuffix(h, suffix); ok {
			labels := strings.Split(name, ".")
			return len(labels) >= 2 && !slices.Contains(labels, "")
		}
	}
	return false
}
