package fakeauth

import (
	"net/http"
	"strings"
	"testing"
)

func TestPRMLocationsPerMode(t *testing.T) {
	tests := []struct {
		mode           PRMMode
		path, root     int    // expected status at the path and root well-known URLs
		challengeParam string // expected resource_metadata suffix, "" for none
	}{
		{PRMPathAndRoot, 200, 200, "/.well-known/oauth-protected-resource/mcp"},
		{PRMRootOnly, 404, 200, ""},
		{PRMHeaderOnly, 404, 404, "/prm/mcp"},
		{PRMNone, 404, 404, ""},
	}
	for _, tt := range tests {
		s := newServer(t, Options{PRM: tt.mode, SeparateOrigins: true})
		pathResp, doc := getJSON(t, s.MCPOrigin()+prmWellKnown+"/mcp")
		rootResp, _ := getJSON(t, s.MCPOrigin()+prmWellKnown)
		if pathResp.StatusCode != tt.path || rootResp.StatusCode != tt.root {
			t.Errorf("mode %d: path %d root %d, want %d %d", tt.mode, pathResp.StatusCode, rootResp.StatusCode, tt.path, tt.root)
		}
		if tt.path == 200 {
			if str(doc, "resource") != s.MCPURL() {
				t.Errorf("resource = %q, want %q", str(doc, "resource"), s.MCPURL())
			}
			as, _ := doc["authorization_servers"].([]any)
			if len(as) != 1 || as[0] != s.IssuerURL() {
				t.Errorf("authorization_servers = %v", as)
			}
		}
		ch := mcpStatus(t, s, "").Header.Get("WWW-Authenticate")
		if tt.challengeParam == "" && strings.Contains(ch, "resource_metadata") {
			t.Errorf("mode %d: unexpected resource_metadata in %q", tt.mode, ch)
		}
		if tt.challengeParam != "" {
			if !strings.Contains(ch, `resource_metadata="`+s.MCPOrigin()+tt.challengeParam+`"`) {
				t.Errorf("mode %d: challenge %q", tt.mode, ch)
			}
			if resp, doc := getJSON(t, s.Endpoints().ResourceMetadata); resp.StatusCode != 200 || str(doc, "resource") != s.MCPURL() {
				t.Errorf("mode %d: PRM at challenge URL: %d %v", tt.mode, resp.StatusCode, doc)
			}
		}
		if tt.mode == PRMNone && ch != "Bearer" {
			t.Errorf("PRMNone challenge = %q, want bare Bearer", ch)
		}
	}
}

func TestASMetadataLocationsWithIssuerPath(t *testing.T) {
	tests := []struct {
		mode                   MetadataMode
		rfc8414, oidcA, oidcB  int
		wantOIDCFields, wantAS bool
	}{
		{MetadataBoth, 200, 200, 200, true, true},
		{MetadataRFC8414, 200, 404, 404, false, true},
		{MetadataOIDC, 404, 200, 200, true, false},
		{MetadataNone, 404, 404, 404, false, false},
	}
	for _, tt := range tests {
		s := newServer(t, Options{Metadata: tt.mode, IssuerPath: "/tenant1", SeparateOrigins: true, CIMD: true, ISSParameter: true})
		o := s.ASOrigin()
		if s.IssuerURL() != o+"/tenant1" {
			t.Fatalf("issuer = %q", s.IssuerURL())
		}
		urls := []string{
			o + "/.well-known/oauth-authorization-server/tenant1",
			o + "/.well-known/openid-configuration/tenant1",
			o + "/tenant1/.well-known/openid-configuration",
		}
		for i, want := range []int{tt.rfc8414, tt.oidcA, tt.oidcB} {
			resp, doc := getJSON(t, urls[i])
			if resp.StatusCode != want {
				t.Errorf("mode %d %s: status %d want %d", tt.mode, urls[i], resp.StatusCode, want)
				continue
			}
			if want != 200 {
				continue
			}
			if str(doc, "issuer") != s.IssuerURL() || str(doc, "token_endpoint") != s.IssuerURL()+"/token" {
				t.Errorf("metadata %v", doc)
			}
			if doc["client_id_metadata_document_supported"] != true || doc["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("CIMD/iss flags missing: %v", doc)
			}
			if m, _ := doc["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
				t.Errorf("code_challenge_methods_supported = %v", m)
			}
			if _, ok := doc["registration_endpoint"]; !ok {
				t.Errorf("registration_endpoint missing")
			}
			if _, ok := doc["jwks_uri"]; ok != (i > 0) {
				t.Errorf("%s: jwks_uri present=%v", urls[i], ok)
			}
		}
	}
}

func TestMetadataOptions(t *testing.T) {
	s := newServer(t, Options{DisableDCR: true, OfflineAccess: true, Scopes: []string{"read"}})
	_, doc := getJSON(t, s.ASOrigin()+"/.well-known/oauth-authorization-server")
	if _, ok := doc["registration_endpoint"]; ok {
		t.Error("registration_endpoint advertised with DCR disabled")
	}
	if _, ok := doc["client_id_metadata_document_supported"]; ok {
		t.Error("CIMD advertised by default")
	}
	sc, _ := doc["scopes_supported"].([]any)
	if len(sc) != 3 || sc[2] != "offline_access" {
		t.Errorf("AS scopes_supported = %v", sc)
	}
	_, prm := getJSON(t, s.Endpoints().ResourceMetadata)
	if ps, _ := prm["scopes_supported"].([]any); len(ps) != 2 {
		t.Errorf("PRM scopes_supported = %v (offline_access must not be listed)", ps)
	}
	req, _ := http.NewRequest(http.MethodPost, s.IssuerURL()+"/register", strings.NewReader(`{"redirect_uris":["`+testRedirect+`"]}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNotFound {
		t.Errorf("register with DCR disabled: %d", resp.StatusCode)
	}
	if s.Endpoints().Registration != "" {
		t.Error("Endpoints().Registration set with DCR disabled")
	}
}
