package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterCIMD(t *testing.T) {
	f := newFake(t)
	f.handle("/register", func(http.ResponseWriter, *http.Request) { t.Error("DCR must not be used") })
	as := &AuthServerMetadata{Issuer: f.URL(), RegistrationEndpoint: f.URL() + "/register", ClientIDMetadataDocumentSupported: true}
	cimd := "https://chat.example.com/oauth/client/github.json"
	cl, err := Register(context.Background(), testClient(), as, RegistrationRequest{
		ClientName: "Chat", RedirectURI: "https://chat.example.com/oauth/callback/github", ClientIDMetadataURL: cimd})
	if err != nil {
		t.Fatal(err)
	}
	want := Client{ClientID: cimd, Method: MethodCIMD, TokenEndpointAuthMethod: AuthMethodNone, Issuer: f.URL()}
	if *cl != want {
		t.Errorf("client = %+v", cl)
	}

	t.Run("no CIMD URL falls back to DCR", func(t *testing.T) {
		f.json("/register", map[string]any{"client_id": "dcr-1"})
		cl, err := Register(context.Background(), testClient(), as, RegistrationRequest{RedirectURI: "http://127.0.0.1/cb"})
		if err != nil || cl.Method != MethodDCR || cl.ClientID != "dcr-1" {
			t.Fatalf("cl=%+v err=%v", cl, err)
		}
	})
}

func TestClientMetadataDocument(t *testing.T) {
	b := ClientMetadataDocument("https://chat.example.com/c.json", "Chat", "https://chat.example.com/cb", []string{"a", "b"})
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["client_id"] != "https://chat.example.com/c.json" || doc["client_name"] != "Chat" ||
		doc["token_endpoint_auth_method"] != "none" || doc["scope"] != "a b" {
		t.Errorf("doc = %s", b)
	}
	for k, want := range map[string]string{"redirect_uris": "https://chat.example.com/cb", "grant_types": "authorization_code refresh_token", "response_types": "code"} {
		var got []string
		for _, v := range doc[k].([]any) {
			got = append(got, v.(string))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s = %v", k, got)
		}
	}
}

func TestRegisterDCR(t *testing.T) {
	tests := []struct {
		name       string
		supported  []string
		wantMethod string // requested
		response   map[string]any
		want       Client
	}{
		{
			name: "nothing listed: public client", wantMethod: "none",
			response: map[string]any{"client_id": "pub"},
			want:     Client{ClientID: "pub", TokenEndpointAuthMethod: "none"},
		},
		{
			name: "none preferred", supported: []string{"client_secret_post", "none", "client_secret_basic"}, wantMethod: "none",
			response: map[string]any{"client_id": "pub", "token_endpoint_auth_method": "none"},
			want:     Client{ClientID: "pub", TokenEndpointAuthMethod: "none"},
		},
		{
			name: "basic over post", supported: []string{"client_secret_post", "client_secret_basic"}, wantMethod: "client_secret_basic",
			response: map[string]any{"client_id": "conf", "client_secret": "s3cr3t", "client_secret_expires_at": 2000000000,
				"registration_access_token": "rat", "registration_client_uri": "https://as.example/register/conf"},
			want: Client{ClientID: "conf", ClientSecret: "s3cr3t", TokenEndpointAuthMethod: "client_secret_basic",
				RegistrationAccessToken: "rat", RegistrationClientURI: "https://as.example/register/conf",
				ClientSecretExpiresAt: time.Unix(2000000000, 0).UTC()},
		},
		{
			name: "server's answer wins", supported: []string{"client_secret_basic", "client_secret_post"}, wantMethod: "client_secret_basic",
			response: map[string]any{"client_id": "conf", "client_secret": "s3cr3t", "token_endpoint_auth_method": "client_secret_post", "client_secret_expires_at": 0},
			want:     Client{ClientID: "conf", ClientSecret: "s3cr3t", TokenEndpointAuthMethod: "client_secret_post"},
		},
		{
			name: "unknown methods only: none", supported: []string{"private_key_jwt"}, wantMethod: "none",
			response: map[string]any{"client_id": "pub"},
			want:     Client{ClientID: "pub", TokenEndpointAuthMethod: "none"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var got map[string]any
			f.handle("/register", func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s %s", r.Method, r.Header.Get("Content-Type"))
				}
				_ = json.NewDecoder(r.Body).Decode(&got)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_ = json.NewEncoder(w).Encode(tc.response)
			})
			as := &AuthServerMetadata{Issuer: f.URL(), RegistrationEndpoint: f.URL() + "/register", TokenEndpointAuthMethodsSupported: tc.supported}
			cl, err := Register(context.Background(), testClient(), as, RegistrationRequest{
				ClientName: "mcp-operator", RedirectURI: "http://127.0.0.1:8080/callback/x", Scopes: []string{"read", "write"}})
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Method, tc.want.Issuer = MethodDCR, f.URL()
			if *cl != tc.want {
				t.Errorf("client = %+v\nwant     %+v", *cl, tc.want)
			}
			if got["token_endpoint_auth_method"] != tc.wantMethod || got["application_type"] != "web" ||
				got["client_name"] != "mcp-operator" || got["scope"] != "read write" {
				t.Errorf("request = %v", got)
			}
			if s, _ := json.Marshal(got["grant_types"]); string(s) != `["authorization_code","refresh_token"]` {
				t.Errorf("grant_types = %s", s)
			}
			if s, _ := json.Marshal(got["response_types"]); string(s) != `["code"]` {
				t.Errorf("response_types = %s", s)
			}
			if s, _ := json.Marshal(got["redirect_uris"]); string(s) != `["http://127.0.0.1:8080/callback/x"]` {
				t.Errorf("redirect_uris = %s", s)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	long := strings.Repeat("very long description ", 100)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		noEnd     bool
		reason    Reason
		transient bool
		msg       []string
	}{
		{name: "no registration endpoint", noEnd: true, reason: ReasonRegistrationUnsupported,
			msg: []string{"spec.auth.oauth2.clientID", "authorizationURL", "tokenURL", "clientSecretRef"}},
		{name: "400 invalid_redirect_uri", reason: ReasonRegistrationFailed, msg: []string{"HTTP 400", "invalid_redirect_uri"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_redirect_uri", "error_description": long})
			}},
		{name: "403 plain text", reason: ReasonRegistrationFailed, msg: []string{"HTTP 403", "registration disabled"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "registration disabled", http.StatusForbidden)
			}},
		{name: "404 means unsupported", reason: ReasonRegistrationUnsupported, msg: []string{"404", "spec.auth.oauth2.clientID"},
			handler: http.NotFound},
		{name: "503 transient", reason: ReasonRegistrationFailed, transient: true,
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
		{name: "429 transient", reason: ReasonRegistrationFailed, transient: true,
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }},
		{name: "malformed JSON", reason: ReasonRegistrationFailed, msg: []string{"client_id"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"client_id": "x"`))
			}},
		{name: "secret method without secret", reason: ReasonRegistrationFailed, msg: []string{"no client_secret"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"client_id": "x", "token_endpoint_auth_method": "client_secret_basic"}`))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			as := &AuthServerMetadata{Issuer: f.URL(), RegistrationEndpoint: f.URL() + "/register"}
			if tc.noEnd {
				as.RegistrationEndpoint = ""
			} else {
				f.handle("/register", tc.handler)
			}
			_, err := Register(context.Background(), testClient(), as, RegistrationRequest{RedirectURI: "http://127.0.0.1/cb"})
			e := reasonError(t, err, tc.reason)
			if e.Transient != tc.transient {
				t.Errorf("Transient = %v, want %v", e.Transient, tc.transient)
			}
			mustContain(t, err.Error(), tc.msg...)
			if len(err.Error()) > 700 {
				t.Errorf("message not truncated (%d bytes)", len(err.Error()))
			}
		})
	}
	t.Run("network failure is transient", func(t *testing.T) {
		f := newFake(t)
		as := &AuthServerMetadata{Issuer: f.URL(), RegistrationEndpoint: f.URL() + "/register"}
		f.srv.Close()
		_, err := Register(context.Background(), testClient(), as, RegistrationRequest{RedirectURI: "http://127.0.0.1/cb"})
		if e := reasonError(t, err, ReasonRegistrationFailed); !e.Transient {
			t.Errorf("want transient: %v", err)
		}
	})
}

func TestDeleteRegistration(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		unknown   bool
		wantErr   bool
		transient bool
	}{
		{name: "deleted", status: http.StatusNoContent},
		{name: "already gone", status: http.StatusNotFound},
		{name: "unknown client per RFC 7592", status: http.StatusUnauthorized},
		{name: "no registration known: no-op", unknown: true},
		{name: "forbidden", status: http.StatusForbidden, wantErr: true},
		{name: "server error", status: http.StatusInternalServerError, wantErr: true, transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, cl := registrationEndpoint(t, http.MethodDelete, tc.status, tc.unknown)
			err := DeleteRegistration(context.Background(), testClient(), cl)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.unknown && len(f.requestsTo("/register/c1")) != 0 {
				t.Error("request sent without registration URI")
			}
			if err != nil {
				mustNotContain(t, err.Error(), "reg-token-123")
				if IsTransient(err) != tc.transient {
					t.Errorf("transient = %v", IsTransient(err))
				}
			}
		})
	}
	if err := DeleteRegistration(context.Background(), testClient(), nil); err != nil {
		t.Error(err)
	}
}

func TestRegistrationMetricsRecorded(t *testing.T) {
	as := &AuthServerMetadata{Issuer: "https://as.example"}
	before := counterValue(t, MethodDCR, string(ReasonRegistrationUnsupported))
	_, _ = Register(context.Background(), testClient(), as, RegistrationRequest{RedirectURI: "https://chat.example/cb"})
	if after := counterValue(t, MethodDCR, string(ReasonRegistrationUnsupported)); after != before+1 {
		t.Errorf("counter %v -> %v", before, after)
	}
}

func counterValue(t *testing.T, method, result string) float64 {
	t.Helper()
	return testutil.ToFloat64(registrationTotal.WithLabelValues(method, result))
}

func TestReadRegistration(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		unknown   bool
		want      RegistrationState
		wantErr   bool
		transient bool
	}{
		{name: "known", status: http.StatusOK, want: RegistrationKnown},
		{name: "forgotten: 404", status: http.StatusNotFound, want: RegistrationForgotten},
		{name: "forgotten: 401 per RFC 7592", status: http.StatusUnauthorized, want: RegistrationForgotten},
		{name: "no registration URI: cannot tell", unknown: true, want: RegistrationUnverifiable},
		{name: "forbidden", status: http.StatusForbidden, want: RegistrationUnverifiable, wantErr: true},
		{name: "server error", status: http.StatusBadGateway, want: RegistrationUnverifiable, wantErr: true, transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, cl := registrationEndpoint(t, http.MethodGet, tc.status, tc.unknown)
			got, err := ReadRegistration(context.Background(), testClient(), cl)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("ReadRegistration = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
			if tc.unknown && len(f.requestsTo("/register/c1")) != 0 {
				t.Error("request sent without registration URI")
			}
			if err != nil {
				mustNotContain(t, err.Error(), "reg-token-123")
				if IsTransient(err) != tc.transient {
					t.Errorf("transient = %v", IsTransient(err))
				}
			}
		})
	}
}

// registrationEndpoint serves an RFC 7592 client configuration endpoint
// that expects method with the registration access token and answers
// status, echoing the token (which must never reach an error). The client
// has no registration URI when unknown.
func registrationEndpoint(t *testing.T, method string, status int, unknown bool) (*fake, *Client) {
	t.Helper()
	f := newFake(t)
	f.handle("/register/c1", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method || r.Header.Get("Authorization") != "Bearer reg-token-123" {
			t.Errorf("%s auth=%q", r.Method, r.Header.Get("Authorization"))
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"client_id":"c1","note":"echo reg-token-123"}`))
	})
	cl := &Client{ClientID: "c1", RegistrationAccessToken: "reg-token-123", RegistrationClientURI: f.URL() + "/register/c1"}
	if unknown {
		cl.RegistrationClientURI = ""
	}
	return f, cl
}
