package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// WriteServingCert generates a throw-away CA and a serving certificate for
// ip signed by it, writes the certificate and its key as dir/tls.crt and
// dir/tls.key (the names the manager's --webhook-cert-dir expects) and
// returns the CA certificate (PEM), which the API server must trust.
func WriteServingCert(dir string, ip net.IP) ([]byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mcp-operator e2e webhook CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating the webhook CA: %w", err)
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: ip.String()},
		IPAddresses:  []net.IP{ip},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating the webhook serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// WebhookConfigurationKinds are the kinds RegisterWebhooks registers.
var WebhookConfigurationKinds = []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

// RegisterWebhooks applies the webhook configurations among objs (as
// rendered from config/) with each webhook's clientConfig turned from the
// in-cluster Service form into the URL form: baseURL (https://host:port)
// plus the Service's path, trusted through caPEM. Everything else (rules,
// failure policy, timeouts) stays as rendered.
func RegisterWebhooks(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, baseURL string, caPEM []byte) (int, error) {
	configs := OfKinds(objs, WebhookConfigurationKinds...)
	if len(configs) == 0 {
		return 0, fmt.Errorf("no webhook configurations among %d objects", len(objs))
	}
	var out []*unstructured.Unstructured
	for _, o := range configs {
		o = o.DeepCopy()
		hooks, _, err := unstructured.NestedSlice(o.Object, "webhooks")
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		for i, h := range hooks {
			hook, ok := h.(map[string]any)
			if !ok {
				return 0, fmt.Errorf("%s %s: webhook %d is not an object", o.GetKind(), o.GetName(), i)
			}
			path, found, err := unstructured.NestedString(hook, "clientConfig", "service", "path")
			if err != nil || !found {
				return 0, fmt.Errorf("%s %s: webhook %d has no clientConfig.service.path", o.GetKind(), o.GetName(), i)
			}
			hook["clientConfig"] = map[string]any{
				"url":      baseURL + path,
				"caBundle": base64.StdEncoding.EncodeToString(caPEM),
			}
			hooks[i] = hook
		}
		if err := unstructured.SetNestedSlice(o.Object, hooks, "webhooks"); err != nil {
			return 0, err
		}
		out = append(out, o)
	}
	return len(out), Apply(ctx, c, "", out)
}
