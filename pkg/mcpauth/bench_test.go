package mcpauth

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// Benchmarks of what a chat backend calls per request; run with `make bench`.

// benchUser is a typical OIDC subject: long enough that hashing it is not free.
const benchUser = "auth0|6543210fedcba9876543210f"

func BenchmarkUserHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = UserHash(benchUser)
	}
}

func BenchmarkTokenSecretName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = TokenSecretName("github", benchUser)
	}
}

func BenchmarkMintTicket(b *testing.B) {
	t := Ticket{User: benchUser, Server: "chat/github"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MintTicket(testKey, t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyTicket(b *testing.B) {
	raw, err := MintTicket(testKey, Ticket{User: benchUser, Server: "chat/github"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := VerifyTicket(testKey, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetToken reads an active token Secret through controller-runtime's
// fake client. It measures GetToken plus the fake client's Get (a deep copy
// through the scheme), i.e. roughly what a cached reader costs; a live
// API-server round trip would dominate both.
func BenchmarkGetToken(b *testing.B) {
	secret := tokenSecret(benchUser, StateActive, map[string]string{
		KeyAccessToken: "at-0123456789abcdef0123456789abcdef",
		KeyExpiry:      time.Now().Add(time.Hour).Format(time.RFC3339),
		KeyScope:       "mcp:read mcp:tools",
		KeyResource:    "https://mcp.example.com/mcp",
	})
	c := fake.NewClientBuilder().WithObjects(secret).Build()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := GetToken(ctx, c, "chat", "github", benchUser); err != nil {
			b.Fatal(err)
		}
	}
}
