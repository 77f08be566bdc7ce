package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClassifySpecialPurposeRanges(t *testing.T) {
	tests := []struct {
		addr string
		want addrClass
	}{
		{"100.64.0.1", addrPrivate},           // CGNAT
		{"100.127.255.254", addrPrivate},      // CGNAT, last block
		{"198.18.0.1", addrPrivate},           // benchmarking
		{"198.19.255.1", addrPrivate},         // benchmarking
		{"2001:2::1", addrPrivate},            // IPv6 benchmarking
		{"192.0.0.8", addrSpecial},            // IETF protocol assignments
		{"192.0.2.1", addrSpecial},            // TEST-NET-1
		{"198.51.100.7", addrSpecial},         // TEST-NET-2
		{"203.0.113.9", addrSpecial},          // TEST-NET-3
		{"240.0.0.1", addrSpecial},            // reserved
		{"2001:db8::1", addrSpecial},          // documentation
		{"100::1", addrSpecial},               // discard-only
		{"::ffff:203.0.113.9", addrSpecial},   // mapped: the IPv4 inside is judged
		{"64:ff9b::c000:201", addrSpecial},    // NAT64 of 192.0.2.1
		{"64:ff9b::6440:1", addrPrivate},      // NAT64 of 100.64.0.1
		{"::ffff:100.64.0.1", addrPrivate},    // mapped CGNAT
		{"255.255.255.255", addrForbidden},    // limited broadcast
		{"0.1.2.3", addrForbidden},            // this network
		{"100.100.100.200", addrForbidden},    // Alibaba metadata, inside CGNAT
		{"64:ff9b::a9fe:a9fe", addrForbidden}, // NAT64 of metadata
		{"100.63.255.255", addrOK},            // just below CGNAT
		{"100.128.0.0", addrOK},               // just above CGNAT
		{"198.20.0.1", addrOK},                // just above benchmarking
		{"64:ff9b::5db8:d822", addrOK},        // NAT64 of a public address
		{"93.184.216.34", addrOK},
	}
	for _, tc := range tests {
		if got, _ := classify(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("classify(%s) = %d, want %d", tc.addr, got, tc.want)
		}
	}
}

func TestCheckAddrAllowAndDenyLists(t *testing.T) {
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	tests := []struct {
		name    string
		policy  EgressPolicy
		addr    string
		blocked bool
	}{
		{"private allowed by default", EgressPolicy{}, "10.1.2.3", false},
		{"CGNAT allowed by default", EgressPolicy{}, "100.64.1.1", false},
		{"private blocked by flag", EgressPolicy{BlockPrivateNetworks: true}, "10.1.2.3", true},
		{"CGNAT blocked by flag", EgressPolicy{BlockPrivateNetworks: true}, "100.64.1.1", true},
		{"benchmarking blocked by flag", EgressPolicy{BlockPrivateNetworks: true}, "198.18.0.1", true},
		{"allow list lifts the private block", EgressPolicy{BlockPrivateNetworks: true, AllowCIDRs: pfx("10.1.0.0/16")}, "10.1.2.3", false},
		{"allow list is exact", EgressPolicy{BlockPrivateNetworks: true, AllowCIDRs: pfx("10.1.0.0/16")}, "10.2.0.1", true},
		{"allow list lifts the NAT64 spelling too", EgressPolicy{BlockPrivateNetworks: true, AllowCIDRs: pfx("10.1.0.0/16")}, "64:ff9b::a01:203", false},
		{"documentation blocked by default", EgressPolicy{}, "192.0.2.1", true},
		{"documentation allowed by list", EgressPolicy{AllowCIDRs: pfx("192.0.2.0/24")}, "192.0.2.1", false},
		{"deny wins over allow", EgressPolicy{AllowCIDRs: pfx("192.0.2.0/24"), DenyCIDRs: pfx("192.0.2.1/32")}, "192.0.2.1", true},
		{"deny blocks a public address", EgressPolicy{DenyCIDRs: pfx("93.184.0.0/16")}, "93.184.216.34", true},
		{"deny sees through mapping", EgressPolicy{DenyCIDRs: pfx("93.184.0.0/16")}, "::ffff:93.184.216.34", true},
		{"deny sees through NAT64", EgressPolicy{DenyCIDRs: pfx("93.184.0.0/16")}, "64:ff9b::5db8:d822", true},
		{"allow never lifts metadata", EgressPolicy{AllowCIDRs: pfx("169.254.0.0/16")}, "169.254.169.254", true},
		{"allow never lifts loopback", EgressPolicy{AllowCIDRs: pfx("127.0.0.0/8")}, "127.0.0.1", true},
		{"public address passes", EgressPolicy{BlockPrivateNetworks: true}, "93.184.216.34", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.policy.checkAddr(netip.MustParseAddr(tc.addr))
			if (b != nil) != tc.blocked {
				t.Errorf("checkAddr(%s) = %v, want blocked=%v", tc.addr, b, tc.blocked)
			}
		})
	}
}

func TestEgressFlags(t *testing.T) {
	var p EgressPolicy
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	p.BindFlags(fs)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	ca := testCA(t)
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	err := fs.Parse([]string{"--block-private-networks", "--egress-allow-cidrs=10.1.0.0/16, 192.0.2.7",
		"--egress-deny-cidrs=10.1.2.0/24", "--egress-deny-cidrs=2001:db8::/32", "--trust-bundle=" + bundle})
	if err != nil {
		t.Fatal(err)
	}
	if !p.BlockPrivateNetworks {
		t.Error("--block-private-networks not set")
	}
	if got := prefixStrings(p.AllowCIDRs); got != "10.1.0.0/16 192.0.2.7/32" {
		t.Errorf("allow = %s", got)
	}
	if got := prefixStrings(p.DenyCIDRs); got != "10.1.2.0/24 2001:db8::/32" {
		t.Errorf("deny = %s", got)
	}
	if p.RootCAs == nil {
		t.Fatal("--trust-bundle did not set RootCAs")
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: p.RootCAs}); err != nil {
		t.Errorf("the bundle's CA is not trusted: %v", err)
	}

	for _, bad := range [][]string{
		{"--egress-allow-cidrs=10.0.0.0/33"},
		{"--egress-deny-cidrs=not-a-cidr"},
		{"--egress-deny-cidrs=::ffff:10.0.0.0/104"},
		{"--trust-bundle=" + filepath.Join(t.TempDir(), "missing.pem")},
		{"--trust-bundle=" + writeFile(t, "garbage.pem", "not PEM")},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		(&EgressPolicy{}).BindFlags(fs)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}

func prefixStrings(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testCA returns a self-signed CA certificate made for the test.
func testCA(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mcp-operator test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
