package serverconfig

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

func TestClientSecretRoundTrip(t *testing.T) {
	in := oauth.Client{
		ClientID: "id", ClientSecret: "secret", TokenEndpointAuthMethod: oauth.AuthMethodClientSecretBasic,
		Method: oauth.MethodDCR, RegistrationAccessToken: "rat", RegistrationClientURI: "https://as/register/id",
		ClientSecretExpiresAt: time.Unix(1900000000, 0), ClientSecretIssuedAt: time.Unix(1800000000, 0), Issuer: "https://as",
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

// A client registered at one authorization server is never configured for
// another: mid re-registration the status may already name the new one.
func TestRetiringClientRoundTrip(t *testing.T) {
	successor := oauth.Client{ClientID: "new", Method: oauth.MethodDCR, TokenEndpointAuthMethod: oauth.AuthMethodNone, Issuer: "https://as2"}
	old := oauth.Client{ClientID: "old", ClientSecret: "secret", TokenEndpointAuthMethod: oauth.AuthMethodClientSecretPost,
		Method: oauth.MethodDCR, RegistrationAccessToken: "rat", RegistrationClientURI: "https://as/register/old", Issuer: "https://as"}
	data := ClientSecretData(&successor, "https://cb/callback")
	if got, _ := RetiringFromSecret(&corev1.Secret{Data: data}); got != nil {
		t.Fatalf("a Secret without a replaced client has one: %+v", got)
	}
	AddRetiring(data, &old, "the authorization server changed")
	secret := &corev1.Secret{Data: data}
	got, why := RetiringFromSecret(secret)
	if got == nil || *got != old || why != "the authorization server changed" {
		t.Fatalf("RetiringFromSecret = %+v, %q", got, why)
	}
	if cur := ClientFromSecret(secret); cur != successor {
		t.Fatalf("the replaced client changed the current one: %+v", cur)
	}
	if after := WithoutRetiring(data); len(after) != len(ClientSecretData(&successor, "https://cb/callback")) {
		t.Fatalf("WithoutRetiring left %d keys", len(after))
	}
}

func TestLoadRefusesAClientOfAnotherIssuer(t *testing.T) {
	scheme := envtestutil.NewScheme()
	server := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", Generation: 1},
		Spec:       mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2}},
		Status: mcpv1.MCPServerStatus{
			OAuth2: &mcpv1.OAuth2Status{Issuer: "https://new-as.example.com", TokenEndpoint: "https://new-as.example.com/token",
				ClientSecretName: mcpv1.ClientSecretName("s")},
			Conditions: []metav1.Condition{{Type: mcpv1.ConditionAuthConfigured, Status: metav1.ConditionTrue, Reason: mcpv1.ReasonRegistered}},
		},
	}
	for _, tc := range []struct {
		issuer  string
		wantErr bool
	}{{"https://old-as.example.com", true}, {"https://new-as.example.com", false}, {"", false}} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: mcpv1.ClientSecretName("s")},
			Data: ClientSecretData(&oauth.Client{ClientID: "c", ClientSecret: "sekrit", Issuer: tc.issuer}, "https://cb/callback/ns/s")}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret).Build()
		cfg, err := Load(context.Background(), c, server)
		if tc.wantErr {
			if !errors.Is(err, ErrNotConfigured) || cfg.Client.ClientSecret != "" {
				t.Fatalf("issuer %q: Load = %+v, %v; want ErrNotConfigured and no client", tc.issuer, cfg.Client, err)
			}
			continue
		}
		if err != nil || cfg.Client.ClientID != "c" {
			t.Fatalf("issuer %q: Load = %+v, %v", tc.issuer, cfg.Client, err)
		}
	}
}

// spec.auth.oauth2.resourceIndicator decides what the flow sends; the
// deprecated omitResourceOnRefresh means ExceptRefresh.
func TestLoadAppliesTheResourceIndicator(t *testing.T) {
	const discovered, appID = "https://mcp.example.com/mcp", "api://app-id"
	for _, tc := range []struct {
		name          string
		spec          mcpv1.OAuth2Auth
		wantResource  string
		wantOnRefresh bool
	}{
		{"default", mcpv1.OAuth2Auth{}, discovered, true},
		{"Always", mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorAlways}}, discovered, true},
		{"ExceptRefresh", mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorExceptRefresh}}, discovered, false},
		{"deprecated omitResourceOnRefresh", mcpv1.OAuth2Auth{OmitResourceOnRefresh: true}, discovered, false},
		{"omitResourceOnRefresh with a value", mcpv1.OAuth2Auth{OmitResourceOnRefresh: true, ResourceIndicator: &mcpv1.ResourceIndicator{Value: appID}}, appID, false},
		{"Never", mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Send: mcpv1.ResourceIndicatorNever, Value: appID}}, "", false},
		{"value", mcpv1.OAuth2Auth{ResourceIndicator: &mcpv1.ResourceIndicator{Value: appID}}, appID, true},
	} {
		spec := tc.spec
		spec.AdditionalAuthorizationParameters = map[string]mcpv1.AuthorizationParameterValue{"prompt": "consent"}
		server := &mcpv1.MCPServer{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
			Spec:       mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &spec}},
			Status: mcpv1.MCPServerStatus{
				OAuth2:     &mcpv1.OAuth2Status{Resource: discovered, ClientSecretName: mcpv1.ClientSecretName("s")},
				Conditions: []metav1.Condition{{Type: mcpv1.ConditionAuthConfigured, Status: metav1.ConditionTrue, Reason: mcpv1.ReasonRegistered}},
			},
		}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: mcpv1.ClientSecretName("s")},
			Data: ClientSecretData(&oauth.Client{ClientID: "c"}, "https://cb/callback/ns/s")}
		c := fake.NewClientBuilder().WithScheme(envtestutil.NewScheme()).WithObjects(secret).Build()
		cfg, err := Load(context.Background(), c, server)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if cfg.Resource != tc.wantResource || cfg.ResourceOnRefresh != tc.wantOnRefresh {
			t.Errorf("%s: resource %q, on refresh %v; want %q, %v", tc.name, cfg.Resource, cfg.ResourceOnRefresh, tc.wantResource, tc.wantOnRefresh)
		}
		if cfg.AuthorizationParameters["prompt"] != "consent" {
			t.Errorf("%s: authorization parameters %v", tc.name, cfg.AuthorizationParameters)
		}
	}
}

func TestLoadCarriesTheCABundle(t *testing.T) {
	server := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
		Spec:       mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{}}},
		Status: mcpv1.MCPServerStatus{
			OAuth2:     &mcpv1.OAuth2Status{ClientSecretName: mcpv1.ClientSecretName("s")},
			Conditions: []metav1.Condition{{Type: mcpv1.ConditionAuthConfigured, Status: metav1.ConditionTrue, Reason: mcpv1.ReasonRegistered}},
		},
	}
	for _, bundle := range []string{"", "-----BEGIN CERTIFICATE-----\n..."} {
		data := ClientSecretData(&oauth.Client{ClientID: "c"}, "https://cb/callback/ns/s")
		if bundle != "" {
			data[mcpv1.ClientKeyCABundle] = []byte(bundle)
		}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: mcpv1.ClientSecretName("s")}, Data: data}
		c := fake.NewClientBuilder().WithScheme(envtestutil.NewScheme()).WithObjects(secret).Build()
		cfg, err := Load(context.Background(), c, server)
		if err != nil {
			t.Fatal(err)
		}
		if string(cfg.CABundle) != bundle {
			t.Errorf("CABundle = %q, want %q", cfg.CABundle, bundle)
		}
	}
}

// Authorization builds the authorization request's configuration from the
// MCPServer alone, as Load would, and is not configured without the client
// ID and redirect URI the operator records in status.
func TestAuthorizationNeedsNoSecret(t *testing.T) {
	server := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
		Spec: mcpv1.MCPServerSpec{Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2, OAuth2: &mcpv1.OAuth2Auth{
			AdditionalAuthorizationParameters: map[string]mcpv1.AuthorizationParameterValue{"prompt": "consent"}}}},
		Status: mcpv1.MCPServerStatus{
			OAuth2: &mcpv1.OAuth2Status{ClientSecretName: mcpv1.ClientSecretName("s"), ClientID: "c", RedirectURI: "https://cb/callback/ns/s",
				Issuer: "https://as", AuthorizationEndpoint: "https://as/authorize", Resource: "https://mcp", Scopes: []string{"a"}},
			Conditions: []metav1.Condition{{Type: mcpv1.ConditionAuthConfigured, Status: metav1.ConditionTrue, Reason: mcpv1.ReasonRegistered}},
		},
	}
	cfg, err := Authorization(server)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Client.ClientID != "c" || cfg.RedirectURI != "https://cb/callback/ns/s" || cfg.Endpoint.AuthorizationEndpoint != "https://as/authorize" ||
		cfg.Resource != "https://mcp" || cfg.AuthorizationParameters["prompt"] != "consent" || cfg.Client.ClientSecret != "" {
		t.Errorf("Authorization = %+v", cfg)
	}
	server.Status.OAuth2.ClientID = ""
	if _, err := Authorization(server); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("without a client ID in status: %v, want ErrNotConfigured", err)
	}
}
