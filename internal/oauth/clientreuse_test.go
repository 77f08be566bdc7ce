package oauth

import (
	"strings"
	"testing"
	"time"
)

func TestReplaceReason(t *testing.T) {
	const redirect = "https://chat.example.com/auth/callback/ns/s"
	yes, no := true, false
	cases := []struct {
		name   string
		change func(*Client, *ClientRequirements) *Client
		want   string // substring; "" = keep the client
	}{
		{"valid client is kept", func(c *Client, _ *ClientRequirements) *Client { return c }, ""},
		{"no client yet", func(*Client, *ClientRequirements) *Client { return nil }, "no client"},
		{"issuer changed", func(c *Client, w *ClientRequirements) *Client {
			w.Issuer = "https://other.example.com"
			return c
		}, "authorization server changed"},
		{"issuer compared exactly", func(c *Client, w *ClientRequirements) *Client {
			w.Issuer = "https://as.example.com/"
			return c
		}, "authorization server changed"},
		{"redirect URI changed", func(c *Client, w *ClientRequirements) *Client {
			w.RedirectURI = "https://new.example.com/callback/ns/s"
			return c
		}, "redirect URI changed"},
		{"invalid_client for this client", func(c *Client, w *ClientRequirements) *Client {
			w.InvalidClientID = "c1"
			return c
		}, "invalid_client"},
		{"invalid_client for an older client is ignored", func(c *Client, w *ClientRequirements) *Client {
			w.InvalidClientID = "c0"
			return c
		}, ""},
		{"static client replaced by auto", func(c *Client, _ *ClientRequirements) *Client {
			c.Method = MethodStatic
			return c
		}, "pre-registered"},
		{"secret about to expire", func(c *Client, w *ClientRequirements) *Client {
			c.ClientSecretExpiresAt = w.Now.Add(30 * time.Minute)
			return c
		}, "expires"},
		{"secret far from expiry", func(c *Client, w *ClientRequirements) *Client {
			c.ClientSecretExpiresAt = w.Now.Add(48 * time.Hour)
			return c
		}, ""},
		{"CIMD kept while usable", func(c *Client, w *ClientRequirements) *Client {
			c.Method, c.ClientID = MethodCIMD, "https://chat.example.com/auth/client-metadata/ns/s.json"
			w.CIMDURL, w.CIMDSupported = c.ClientID, &yes
			return c
		}, ""},
		{"CIMD without https callback", func(c *Client, _ *ClientRequirements) *Client {
			c.Method, c.ClientID = MethodCIMD, "https://chat.example.com/auth/client-metadata/ns/s.json"
			return c
		}, "Client ID Metadata Document"},
		{"CIMD no longer supported", func(c *Client, w *ClientRequirements) *Client {
			c.Method, c.ClientID = MethodCIMD, "https://x/y.json"
			w.CIMDURL, w.CIMDSupported = c.ClientID, &no
			return c
		}, "Client ID Metadata Document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur := &Client{ClientID: "c1", Method: MethodDCR, Issuer: "https://as.example.com"}
			want := ClientRequirements{Issuer: "https://as.example.com", RedirectURI: redirect,
				CurrentRedirectURI: redirect, Now: time.Now()}
			got := ReplaceReason(tc.change(cur, &want), want)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("ReplaceReason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReplaceReasonCIMDSupportUnknown(t *testing.T) {
	cl := &Client{ClientID: "https://x/y.json", Method: MethodCIMD, Issuer: "https://as.example.com"}
	want := ClientRequirements{Issuer: cl.Issuer, CIMDURL: cl.ClientID, Now: time.Now()}
	if got := ReplaceReason(cl, want); got != "" {
		t.Fatalf("without fresh metadata a usable CIMD client must be kept, got %q", got)
	}
}

func TestReplaceReasonRedactsIssuers(t *testing.T) {
	cl := &Client{ClientID: "c1", Method: MethodDCR, Issuer: "https://user:pw@as.example.com/?k=v"}
	got := ReplaceReason(cl, ClientRequirements{Issuer: "https://other.example.com/#frag"})
	mustNotContain(t, got, "pw", "k=v", "frag")
}
