package oauth

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
)

// BindFlags registers the egress flags both binaries share, so their names,
// defaults and help are defined once. Values are parsed while the flags are
// parsed, so a bad CIDR or bundle stops the binary at start with the flag's
// name in the error.
func (p *EgressPolicy) BindFlags(fs *flag.FlagSet) {
	fs.BoolVar(&p.AllowLoopback, "allow-loopback-egress", false,
		"Allow outbound OAuth and MCP calls to loopback addresses. For tests and the local demo only.")
	fs.BoolVar(&p.AllowInsecureHTTP, "allow-insecure-http", false,
		"Allow outbound OAuth and MCP calls over plain http to any host. For tests and the local demo only; MCP traffic (not OAuth) to in-cluster Service names (*.svc, *.svc.cluster.local) never needs it.")
	fs.BoolVar(&p.BlockPrivateNetworks, "block-private-networks", false,
		"Block outbound OAuth and MCP calls to private-use addresses (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10, 198.18/15) except those in --egress-allow-cidrs. Off by default: in-cluster servers live there.")
	fs.Func("egress-allow-cidrs",
		"Comma-separated CIDRs outbound calls may reach although --block-private-networks or the special-purpose block (documentation, reserved ranges) would refuse them. Never lifts the cloud metadata and link-local block.",
		appendPrefixes(&p.AllowCIDRs))
	fs.Func("egress-deny-cidrs",
		"Comma-separated CIDRs outbound calls may never reach. Wins over --egress-allow-cidrs.",
		appendPrefixes(&p.DenyCIDRs))
	fs.Func("egress-proxy",
		"HTTP CONNECT proxy for every outbound OAuth and MCP call, http://host:port. Targets are still resolved and checked here; the CONNECT names the checked address, so the cluster's DNS must resolve them. Environment proxy variables are ignored.",
		func(s string) error {
			hostport, err := ParseEgressProxy(s)
			if err != nil {
				return err
			}
			p.EgressProxy = hostport
			return nil
		})
	fs.Func("trust-bundle",
		"PEM file of CA certificates trusted for outbound OAuth and MCP calls in addition to the system roots (a corporate or private CA).",
		func(path string) error {
			pool, err := trustBundlePool(path)
			if err != nil {
				return err
			}
			p.RootCAs = pool
			return nil
		})
}

// appendPrefixes parses a comma-separated CIDR list; a bare address counts as
// a single-address prefix.
func appendPrefixes(dst *[]netip.Prefix) func(string) error {
	return func(s string) error {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if a, err := netip.ParseAddr(f); err == nil {
				*dst = append(*dst, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			pfx, err := netip.ParsePrefix(f)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR", f)
			}
			// An IPv4-mapped prefix would never match: addresses are unmapped first.
			if pfx.Addr().Is4In6() {
				return fmt.Errorf("%q: write IPv4-mapped ranges as IPv4", f)
			}
			*dst = append(*dst, pfx.Masked())
		}
		return nil
	}
}
