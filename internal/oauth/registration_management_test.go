package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRenewClientSecret(t *testing.T) {
	expires := time.Unix(2000000000, 0).UTC()
	later := expires.Add(24 * time.Hour).Unix()
	tests := []struct {
		name      string
		status    int
		response  map[string]any
		wantErr   string // substring; "" = renewed
		transient bool
	}{
		{name: "a new secret with a later expiry", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-1", "client_secret": "new-s3cr3t", "client_secret_expires_at": later}},
		{name: "a new secret that never expires", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-1", "client_secret": "new-s3cr3t", "client_secret_expires_at": 0}},
		{name: "the same expiry is no renewal", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-1", "client_secret": "old-s3cr3t", "client_secret_expires_at": expires.Unix()},
			wantErr:  "did not extend"},
		{name: "another client_id", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-2", "client_secret": "new-s3cr3t", "client_secret_expires_at": later},
			wantErr:  "another client_id"},
		{name: "no secret for a confidential client", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-1"}, wantErr: "no client_secret"},
		{name: "a secret under another auth method", status: http.StatusOK,
			response: map[string]any{"client_id": "dcr-1", "client_secret": "new-s3cr3t", "token_endpoint_auth_method": "client_secret_post"},
			wantErr:  "not client_secret_basic"},
		{name: "updates refused", status: http.StatusForbidden,
			response: map[string]any{"error": "access_denied"}, wantErr: "HTTP 403"},
		{name: "a server error is transient", status: http.StatusServiceUnavailable,
			response: map[string]any{"error": "temporarily_unavailable"}, wantErr: "HTTP 503", transient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var got map[string]any
			f.handle("/register/dcr-1", func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPut || r.Header.Get("Authorization") != "Bearer rat-1" {
					t.Errorf("%s with Authorization %q", r.Method, r.Header.Get("Authorization"))
				}
				_ = json.NewDecoder(r.Body).Decode(&got)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_ = json.NewEncoder(w).Encode(tc.response)
			})
			cur := &Client{ClientID: "dcr-1", ClientSecret: "old-s3cr3t", TokenEndpointAuthMethod: AuthMethodClientSecretBasic,
				Method: MethodDCR, RegistrationAccessToken: "rat-1", RegistrationClientURI: f.URL() + "/register/dcr-1",
				ClientSecretExpiresAt: expires, Issuer: f.URL()}
			renewed, err := RenewClientSecret(context.Background(), testClient(), cur,
				RegistrationRequest{ClientName: "Chat", RedirectURI: "http://127.0.0.1/cb", Scopes: []string{"mcp:read"}})

			// RFC 7592 §2.2: the client's ID and full metadata, never its
			// management credentials or its secret.
			if got["client_id"] != "dcr-1" || got["token_endpoint_auth_method"] != AuthMethodClientSecretBasic ||
				got["scope"] != "mcp:read" || got["client_name"] != "Chat" {
				t.Errorf("update request = %v", got)
			}
			for _, k := range []string{"registration_access_token", "client_secret", "client_secret_expires_at"} {
				if _, ok := got[k]; ok {
					t.Errorf("update request carries %s", k)
				}
			}
			if tc.wantErr != "" {
				e := reasonError(t, err, ReasonRegistrationFailed)
				mustContain(t, e.Error(), tc.wantErr)
				mustNotContain(t, e.Error(), "old-s3cr3t", "new-s3cr3t", "rat-1")
				if IsTransient(err) != tc.transient {
					t.Errorf("transient = %v", IsTransient(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if renewed.ClientID != "dcr-1" || renewed.ClientSecret != "new-s3cr3t" || renewed.Method != MethodDCR ||
				renewed.RegistrationAccessToken != "rat-1" || renewed.RegistrationClientURI != cur.RegistrationClientURI ||
				renewed.Issuer != cur.Issuer {
				t.Errorf("renewed = %+v", renewed)
			}
		})
	}
}

func TestSecretRenewalAt(t *testing.T) {
	expires := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		issued time.Time
		want   time.Time
	}{
		{"lifetime unknown: an hour ahead", time.Time{}, expires.Add(-time.Hour)},
		{"a long-lived secret: an hour ahead", expires.Add(-90 * 24 * time.Hour), expires.Add(-time.Hour)},
		{"a short-lived secret: half-way", expires.Add(-40 * time.Minute), expires.Add(-20 * time.Minute)},
	}
	for _, tc := range tests {
		cl := &Client{ClientSecretExpiresAt: expires, ClientSecretIssuedAt: tc.issued}
		if got := SecretRenewalAt(cl); !got.Equal(tc.want) {
			t.Errorf("%s: SecretRenewalAt = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := SecretRenewalAt(&Client{}); !got.IsZero() {
		t.Errorf("a secret that never expires is due at %v", got)
	}
}
