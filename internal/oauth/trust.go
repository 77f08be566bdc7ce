package oauth

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
)

// ParseCABundle returns the certificates of a PEM bundle. It is strict, so a
// typo is reported rather than silently trusted less: every block must be a
// CERTIFICATE that parses, and there must be at least one.
func ParseCABundle(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %q PEM block; only CERTIFICATE blocks belong in a CA bundle", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	return certs, nil
}

// withCerts returns a copy of base (the system roots when nil) that also
// trusts certs.
func withCerts(base *x509.CertPool, certs []*x509.Certificate) *x509.CertPool {
	var pool *x509.CertPool
	if base != nil {
		pool = base.Clone()
	} else if sys, err := x509.SystemCertPool(); err == nil {
		pool = sys
	} else {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// trustBundlePool returns the system roots plus the certificates of the PEM
// file at path (--trust-bundle).
func trustBundlePool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the path is the operator's own --trust-bundle flag
	if err != nil {
		return nil, err
	}
	certs, err := ParseCABundle(data)
	if err != nil {
		return nil, fmt.Errorf("%s %w", path, err)
	}
	return withCerts(nil, certs), nil
}

// TrustedClients hands out clients that trust a server's own CA bundle
// (spec.caBundleRef) on top of a base client's policy (--trust-bundle, the
// guard, the proxy). Clients are kept per bundle, so their connections are
// reused from one reconcile to the next. The zero value is ready to use.
type TrustedClients struct {
	mu      sync.Mutex
	clients map[[sha256.Size]byte]*http.Client
}

// maxTrustedClients bounds the cache; past it, it is emptied.
const maxTrustedClients = 256

// For returns a client like base (which must come from NewHTTPClient) that
// also trusts the CA certificates of the PEM bundle; base itself when the
// bundle is empty.
func (t *TrustedClients) For(base *http.Client, bundle []byte) (*http.Client, error) {
	if len(bundle) == 0 {
		return base, nil
	}
	key := sha256.Sum256(bundle)
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[key]; ok {
		return c, nil
	}
	certs, err := ParseCABundle(bundle)
	if err != nil {
		return nil, err
	}
	p := policyOf(base)
	p.RootCAs = withCerts(p.RootCAs, certs)
	p.ownTrust = true
	c := NewHTTPClient(p)
	if t.clients == nil || len(t.clients) >= maxTrustedClients {
		for _, old := range t.clients {
			old.CloseIdleConnections()
		}
		t.clients = map[[sha256.Size]byte]*http.Client{}
	}
	t.clients[key] = c
	return c, nil
}

// sharedTrust reports whether c trusts what every client of the operator
// trusts. What a client with a server's own CA bundle fetched is not shared
// with other servers (Discoverer): that bundle is one namespace's choice.
func sharedTrust(c *http.Client) bool { return !policyOf(c).ownTrust }
