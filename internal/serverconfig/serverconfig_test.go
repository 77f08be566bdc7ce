package serverconfig

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

func TestClientSecretRoundTrip(t *testing.T) {
	in := oauth.Client{
		ClientID: "id", ClientSecret: "secret", TokenEndpointAuthMethod: oauth.AuthMethodClientSecretBasic,
		Method: oauth.MethodDCR, RegistrationAccessToken: "rat", RegistrationClientURI: "https://as/register/id",
		ClientSecretExpiresAt: time.Unix(1900000000, 0), Issuer: "https://as",
	}
	data := ClientSecretData(&in, "https://cb/callback/ns/name")
	out := ClientFromSecret(&corev1.Secret{Data: data})
	if out != in {
		t.Fatalf("round trip changed the client:\n got %+v\nwant %+v", out, in)
	}
	if string(data["redirect_uri"]) != "https://cb/callback/ns/name" {
		t.Fatalf("redirect_uri = %q", data["redirect_uri"])
	}
	if _, ok := ClientSecretData(&oauth.Client{ClientID: "public"}, "")["client_secret"]; ok {
		t.Fatal("an empty client secret must not be written")
	}
}
