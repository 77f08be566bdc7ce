package mcpauth

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func tokenSecret(user string, state State, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "chat", Name: TokenSecretName("github", user),
			Labels:      TokenSecretLabels("github", user),
			Annotations: map[string]string{mcpv1.AnnotationUser: user, AnnotationState: string(state)},
		},
		Type: mcpv1.SecretTypeUserToken,
		Data: map[string][]byte{},
	}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestGetTokenStates(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	fresh := map[string]string{KeyAccessToken: "at", KeyExpiry: now.Add(time.Hour).Format(time.RFC3339),
		KeyScope: "a b", KeyResource: "https://mcp.example.com/mcp"}
	stale := map[string]string{KeyAccessToken: "at", KeyExpiry: now.Add(5 * time.Second).Format(time.RFC3339)}
	forged := tokenSecret("alice", StateActive, fresh)
	forged.Annotations[mcpv1.AnnotationUser] = "mallory"

	cases := []struct {
		name   string
		secret *corev1.Secret
		want   error
	}{
		{"active", tokenSecret("alice", StateActive, fresh), nil},
		{"missing", nil, ErrNotConnected},
		{"other user's secret under the name", forged, ErrNotConnected},
		{"dead grant", tokenSecret("alice", StateReauthorizationRequired, nil), ErrReauthorizationRequired},
		{"client invalid", tokenSecret("alice", StateClientInvalid, nil), ErrReauthorizationRequired},
		{"marked expired", tokenSecret("alice", StateExpired, fresh), ErrExpired},
		{"expiring within the margin", tokenSecret("alice", StateActive, stale), ErrExpired},
		{"no access token", tokenSecret("alice", StateActive, map[string]string{}), ErrReauthorizationRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := fake.NewClientBuilder()
			if tc.secret != nil {
				b = b.WithObjects(tc.secret)
			}
			tok, err := tokenAt(context.Background(), b.Build(), "chat", "github", "alice", now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			if tok.AuthorizationHeader() != "Bearer at" || len(tok.Scopes) != 2 || tok.Resource == "" {
				t.Errorf("token = %+v", tok)
			}
		})
	}
}
