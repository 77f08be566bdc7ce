package callback

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkFlowCookieSealOpen is one sealed flow cookie round trip, as
// /connect writes it and /callback reads it: JSON, AES-256-GCM with a fresh
// nonce, base64, then the reverse with the server binding and expiry checks.
func BenchmarkFlowCookieSealOpen(b *testing.B) {
	fs, err := newFlowSealer([][]byte{[]byte(strings.Repeat("k", MinKeyBytes))})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	f := flow{
		User: "auth0|6543210fedcba9876543210f", Namespace: "chat", Name: "github",
		Verifier: strings.Repeat("v", 43), State: strings.Repeat("s", 43),
		Issuer: "https://auth.example.com/tenant1", Scopes: []string{"mcp:read", "mcp:tools", "offline_access"},
		ReturnTo: "https://chat.example.com/settings/connections", Expiry: now.Add(flowTTL).Unix(),
	}
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v, err := fs.seal(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fs.open(v, f.Namespace, f.Name, now); err != nil {
			b.Fatal(err)
		}
		size = len(v)
	}
	b.ReportMetric(float64(size), "cookie-bytes")
}
