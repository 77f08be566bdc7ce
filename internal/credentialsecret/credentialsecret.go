// Package credentialsecret says which Secrets an MCPServer may take its
// credentials from (spec.auth.apiKey.secretKeyRef, headers.secretRef,
// oauth2.clientSecretRef).
//
// Whoever can create an MCPServer chooses the URL its credentials are sent
// to. So the operator sends a Secret only when its owner opted it in with
// the label mcpv1.LabelCredential=true, and never one of its own Secrets
// (OAuth clients, users' tokens) or a service-account token, labelled or
// not. The admission webhook and the reconciler share this rule, so a
// Secret created or relabelled after admission is held to it too.
package credentialsecret

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// forbiddenTypes may never be referenced, whatever their labels say.
var forbiddenTypes = map[corev1.SecretType]bool{
	mcpv1.SecretTypeOAuth2Client:         true,
	mcpv1.SecretTypeUserToken:            true,
	corev1.SecretTypeServiceAccountToken: true,
	corev1.SecretTypeBootstrapToken:      true,
}

// Refusal says why s must not be used as an MCPServer's credentials: a
// condition reason and a sentence that follows "Secret <ns>/<name>
// referenced by <field> ", e.g. "is not labelled ...". Both are "" when s
// may be used. The sentence names the Secret's type and labels only, never
// its keys or values: the MCPServer's author may not be allowed to read it.
func Refusal(s *corev1.Secret) (reason, problem string) {
	if forbiddenTypes[s.Type] {
		return mcpv1.ReasonSecretTypeNotAllowed, fmt.Sprintf(
			"is of type %s, which an MCPServer may never reference (the operator's own Secrets and service-account tokens are never sent to a server, labelled or not): "+
				"put the credential in a Secret of its own", s.Type)
	}
	if !OptedIn(s) {
		return mcpv1.ReasonSecretNotOptedIn, fmt.Sprintf(
			"is not labelled %s=%s, so the operator does not send it: if this Secret is meant to be sent to the MCPServer's URL, label it: kubectl label secret -n %s %s %s=%s",
			mcpv1.LabelCredential, mcpv1.LabelCredentialValue, s.Namespace, s.Name, mcpv1.LabelCredential, mcpv1.LabelCredentialValue)
	}
	return "", ""
}

// OptedIn reports whether s carries the opt-in label.
func OptedIn(s *corev1.Secret) bool {
	return s.Labels[mcpv1.LabelCredential] == mcpv1.LabelCredentialValue
}
