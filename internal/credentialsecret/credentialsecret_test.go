package credentialsecret

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func TestRefusal(t *testing.T) {
	optedIn := map[string]string{mcpv1.LabelCredential: mcpv1.LabelCredentialValue}
	secret := func(typ corev1.SecretType, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "chat", Name: "creds", Labels: labels},
			Type:       typ,
			Data:       map[string][]byte{"X-Secret-Key-Name": []byte("s3cr3t-value")},
		}
	}
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		reason string
	}{
		{"opted-in Opaque", secret(corev1.SecretTypeOpaque, optedIn), ""},
		{"opted-in without a type", secret("", optedIn), ""},
		{"unlabelled", secret(corev1.SecretTypeOpaque, nil), mcpv1.ReasonSecretNotOptedIn},
		{"label with another value", secret(corev1.SecretTypeOpaque, map[string]string{mcpv1.LabelCredential: "yes"}), mcpv1.ReasonSecretNotOptedIn},
		{"a user's token Secret, labelled", secret(mcpv1.SecretTypeUserToken, optedIn), mcpv1.ReasonSecretTypeNotAllowed},
		{"an OAuth client Secret, labelled", secret(mcpv1.SecretTypeOAuth2Client, optedIn), mcpv1.ReasonSecretTypeNotAllowed},
		{"a service-account token, labelled", secret(corev1.SecretTypeServiceAccountToken, optedIn), mcpv1.ReasonSecretTypeNotAllowed},
		{"a bootstrap token, labelled", secret("bootstrap.kubernetes.io/token", optedIn), mcpv1.ReasonSecretTypeNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, problem := Refusal(tc.secret)
			if reason != tc.reason {
				t.Fatalf("reason = %q, want %q (problem %q)", reason, tc.reason, problem)
			}
			if (problem == "") != (reason == "") {
				t.Errorf("problem %q does not go with reason %q", problem, reason)
			}
			if strings.Contains(problem, "s3cr3t-value") || strings.Contains(problem, "X-Secret-Key-Name") {
				t.Errorf("problem names the Secret's contents: %q", problem)
			}
			if reason == mcpv1.ReasonSecretNotOptedIn && !strings.Contains(problem, "kubectl label secret -n chat creds mcpoperator.io/credential=true") {
				t.Errorf("problem does not say which label to add: %q", problem)
			}
		})
	}
}
