package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// mcpOpenInitialize makes /mcp let each era's opening request (initialize,
// server/discover) through and answer every other unauthenticated method
// 401 with challenge.
func (f *fake) mcpOpenInitialize(challenge string) {
	f.handle("/mcp", func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Method string `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&msg)
		if msg.Method == "initialize" || msg.Method == "server/discover" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
			return
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

// A server that protects operations but not initialize (the conformance
// suite's scope-step-up scenario): the tools/list probe must still see the
// challenge, so its scope wins over the PRM's scopes_supported.
func TestDiscoverProbesAnOperationWhenInitializeIsOpen(t *testing.T) {
	f := newFake(t)
	f.mcpOpenInitialize(`Bearer scope="mcp:basic", resource_metadata="` + f.URL() + `/custom/prm.json"`)
	prm := prmDoc(f.URL()+"/mcp", f.URL())
	prm["scopes_supported"] = []string{"mcp:profile"}
	f.json("/custom/prm.json", prm)
	f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))

	d, err := Discover(context.Background(), testClient(), f.URL()+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.ChallengeScopes, []string{"mcp:basic"}) || d.ResourceMetadataURL != f.URL()+"/custom/prm.json" {
		t.Errorf("ChallengeScopes=%v ResourceMetadataURL=%q, want the tools/list challenge", d.ChallengeScopes, d.ResourceMetadataURL)
	}
	if got := DefaultScopes(nil, d); !slices.Equal(got, []string{"mcp:basic"}) {
		t.Errorf("DefaultScopes = %v, want [mcp:basic]", got)
	}
	if n := len(f.requestsTo("/mcp")); n != 2 {
		t.Errorf("%d probes, want server/discover then tools/list", n)
	}
}

// When initialize already gets the 401, no second probe is sent.
func TestDiscoverSendsOneProbeWhenInitializeIsProtected(t *testing.T) {
	f := newFake(t)
	f.mcp401("/mcp", `Bearer scope="a"`)
	f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
	f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
	if _, err := Discover(context.Background(), testClient(), f.URL()+"/mcp"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requestsTo("/mcp")); n != 1 {
		t.Errorf("%d probes, want 1", n)
	}
}

// DiscoverFromChallenge uses the caller's challenge and sends no probe; a
// moved authorization server (PRM now naming another issuer) is found.
func TestDiscoverFromChallenge(t *testing.T) {
	mcp, as2 := newFake(t), newFake(t)
	mcp.json("/prm", prmDoc(mcp.URL()+"/mcp", as2.URL()))
	as2.json("/.well-known/oauth-authorization-server", asDoc(as2.URL(), as2.URL()))

	challenge := map[string]string{"scope": "mcp:basic mcp:write", "resource_metadata": mcp.URL() + "/prm"}
	d, err := DiscoverFromChallenge(context.Background(), testClient(), mcp.URL()+"/mcp", challenge)
	if err != nil {
		t.Fatal(err)
	}
	if d.AuthServer.Issuer != as2.URL() || d.Resource != mcp.URL()+"/mcp" {
		t.Errorf("issuer=%q resource=%q", d.AuthServer.Issuer, d.Resource)
	}
	if !slices.Equal(d.ChallengeScopes, []string{"mcp:basic", "mcp:write"}) {
		t.Errorf("ChallengeScopes = %v", d.ChallengeScopes)
	}
	if mcp.hit("/mcp") {
		t.Error("DiscoverFromChallenge must not probe the MCP endpoint")
	}

	t.Run("no challenge falls back to the well-known URLs", func(t *testing.T) {
		f := newFake(t)
		f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
		f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
		d, err := DiscoverFromChallenge(context.Background(), testClient(), f.URL()+"/mcp", nil)
		if err != nil || d.ResourceMetadataURL != f.URL()+"/.well-known/oauth-protected-resource/mcp" {
			t.Fatalf("d=%+v err=%v", d, err)
		}
	})
	t.Run("invalid server URL", func(t *testing.T) {
		_, err := DiscoverFromChallenge(context.Background(), testClient(), "ftp://x/mcp", nil)
		wantReason(t, err, ReasonDiscoveryFailed)
	})
}
