package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Connections fails on anything but the documented answer, so a broken
// endpoint cannot read as "not connected".
func TestConnectionsIsStrict(t *testing.T) {
	const entry = `{"namespace":"ns","name":"github","displayName":"GitHub","authType":"OAuth2","connected":false}`
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		wantErr                 string // "" for success
	}{
		{name: "documented answer", body: `{"user":"alice","connections":[` + entry + "]}\n"},
		{name: "no servers", body: `{"user":"alice","connections":[]}`},
		{name: "renamed member", body: `{"user":"alice","connections":[` + strings.Replace(entry, `"connected"`, `"isConnected"`, 1) + "]}",
			wantErr: `unknown field "isConnected"`},
		{name: "missing member", body: `{"user":"alice","connections":[` + strings.Replace(entry, `,"connected":false`, "", 1) + "]}",
			wantErr: `connections[0] has no "connected"`},
		{name: "null list", body: `{"user":"alice","connections":null}`, wantErr: `"connections" is missing or null`},
		{name: "wrong type", body: `{"user":"alice","connections":[` + strings.Replace(entry, "false", `"no"`, 1) + "]}",
			wantErr: "cannot unmarshal string"},
		{name: "trailing data", body: `{"user":"alice","connections":[]} {}`, wantErr: "data after the JSON object"},
		{name: "another user", body: `{"user":"bob","connections":[]}`, wantErr: `the answer is for user "bob"`},
		{name: "error status", status: http.StatusServiceUnavailable, body: `{"error":"try again"}`, wantErr: "answered 503"},
		{name: "HTML", contentType: "text/html", body: "<p>hi</p>", wantErr: `Content-Type "text/html"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/connections" || r.Header.Get("X-Forwarded-User") != "alice" {
					http.Error(w, "unexpected request", http.StatusBadRequest)
					return
				}
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			list, err := NewBrowser(srv.URL, "X-Forwarded-User", "alice").Connections(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, ok := list.Find("ns", "github")
			if want := strings.Contains(tc.body, entry); ok != want || (ok && (c.Connected || c.AuthType != "OAuth2" || c.DisplayName != "GitHub")) {
				t.Errorf("Find(ns, github) = %+v, %t", c, ok)
			}
		})
	}
}
