package oauth

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestParseCABundle(t *testing.T) {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testCA(t).Raw})
	for _, tc := range []struct {
		name, bundle, wantErr string
		certs                 int
	}{
		{"one", string(ca), "", 1},
		{"two with text around", "# corporate roots\n" + string(ca) + "\n" + string(ca), "", 2},
		{"empty", "", "holds no PEM certificate", 0},
		{"not PEM", "MIIB...", "holds no PEM certificate", 0},
		{"a key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")})), `"PRIVATE KEY" PEM block`, 0},
		{"broken certificate", string(ca) + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})), "certificate 2 does not parse", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCABundle([]byte(tc.bundle))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(certs) != tc.certs {
				t.Fatalf("got %d certificates, %v; want %d", len(certs), err, tc.certs)
			}
		})
	}
}

func TestTrustedClients(t *testing.T) {
	srv, _ := tlsTarget(t)
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	u := "https://example.com:" + port + "/"
	dl := &dialLog{}
	base := NewHTTPClient(EgressPolicy{
		AllowLoopback: true,
		LookupIP:      resolver(map[string]string{"example.com": "127.0.0.1"}),
		DialContext:   dl.dial,
	})
	if err := get(base, u); err == nil || !isTLSConfigError(err) {
		t.Fatalf("the base client trusts the test server: %v", err)
	}

	var tc TrustedClients
	c, err := tc.For(base, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(c, u); err != nil {
		t.Fatalf("with the bundle: %v", err)
	}
	if again, _ := tc.For(base, bundle); again != c {
		t.Error("the same bundle gave a new client; connections are not reused")
	}
	if sharedTrust(c) || !sharedTrust(base) {
		t.Error("sharedTrust does not tell a client with a server's own bundle")
	}
	// The base policy carries over: the guard still refuses what it refused.
	if err := get(c, "https://169.254.169.254/"); err == nil || !strings.Contains(err.Error(), "never allowed") {
		t.Errorf("metadata address with a bundle: %v", err)
	}
	if _, err := tc.For(base, []byte("not PEM")); err == nil {
		t.Error("a bundle without certificates was accepted")
	}
}

// Authorization server metadata fetched with one server's own CA bundle is
// not served to other servers from the cache, nor the reverse.
func TestDiscovererDoesNotShareWhatAServerBundleFetched(t *testing.T) {
	as := newFake(t)
	as.json("/.well-known/oauth-authorization-server", asDoc(as.URL(), as.URL()))
	base := testClient()
	var tc TrustedClients
	own, err := tc.For(base, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testCA(t).Raw}))
	if err != nil {
		t.Fatal(err)
	}
	var d Discoverer
	for _, c := range []*http.Client{own, base, own} {
		if _, err := d.authServer(context.Background(), c, as.URL()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(as.requestsTo("/.well-known/oauth-authorization-server")); n != 3 {
		t.Errorf("%d fetches, want 3: the own-bundle fetches must not use or fill the shared cache", n)
	}
}
