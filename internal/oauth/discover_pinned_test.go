package oauth

import (
	"context"
	"testing"
)

// TestDiscoverPinned: of several authorization servers the protected
// resource metadata lists, the first is used unless the MCPServer pins
// another; a pinned issuer that is not listed is an IssuerNotListed error
// naming the field and what is listed; a server without that metadata has
// its authorization server's metadata read from the pinned issuer.
func TestDiscoverPinned(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	first, second := f.URL()+"/first", f.URL()+"/second"
	f.mcp401("/mcp", `Bearer realm="x"`)
	f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", first, second))
	f.json("/.well-known/oauth-authorization-server/first", asDoc(first, first))
	f.json("/.well-known/oauth-authorization-server/second", asDoc(second, second))
	f.mcp401("/legacy", "")
	f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))

	var d *Discoverer
	for _, tc := range []struct{ pinned, want string }{{"", first}, {second, second}, {first, first}} {
		got, err := d.DiscoverPinned(ctx, testClient(), f.URL()+"/mcp", tc.pinned)
		if err != nil {
			t.Fatalf("pinned %q: %v", tc.pinned, err)
		}
		if got.AuthServer.Issuer != tc.want || got.AuthServer.TokenEndpoint != tc.want+"/token" {
			t.Errorf("pinned %q: authorization server %s (token endpoint %s), want %s", tc.pinned, got.AuthServer.Issuer, got.AuthServer.TokenEndpoint, tc.want)
		}
	}

	_, err := d.DiscoverPinned(ctx, testClient(), f.URL()+"/mcp", f.URL()+"/third")
	e := reasonError(t, err, ReasonIssuerNotListed)
	if e.Transient {
		t.Error("IssuerNotListed is transient; only a person can fix it")
	}
	mustContain(t, e.Message, "spec.auth.oauth2.issuer", f.URL()+"/third", first, second)
	if f.hit("/.well-known/oauth-authorization-server/third") {
		t.Error("the metadata of an issuer the resource does not list was fetched")
	}

	got, err := d.DiscoverPinned(ctx, testClient(), f.URL()+"/legacy", second)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Legacy || got.AuthServer.Issuer != second || got.Resource != f.URL()+"/legacy" {
		t.Errorf("without PRM, pinned: legacy %v, issuer %s, resource %s", got.Legacy, got.AuthServer.Issuer, got.Resource)
	}
}
