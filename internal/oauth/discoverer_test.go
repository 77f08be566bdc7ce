package oauth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Many MCP servers behind one authorization server, discovered at once and
// again later, fetch its metadata once per TTL.
func TestDiscovererFetchesAnAuthServerOncePerTTL(t *testing.T) {
	as := newFake(t)
	as.json("/.well-known/oauth-authorization-server", asDoc(as.URL(), as.URL()))
	mcp := newFake(t)
	const servers = 50
	for i := range servers {
		path := fmt.Sprintf("/tenant%d/mcp", i)
		mcp.mcp401(path, "Bearer")
		mcp.json("/.well-known/oauth-protected-resource"+path, prmDoc(mcp.URL()+path, as.URL()))
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	d := &Discoverer{MetadataTTL: time.Minute, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }}

	discoverAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		for i := range servers {
			wg.Go(func() {
				got, err := d.Discover(context.Background(), testClient(), fmt.Sprintf("%s/tenant%d/mcp", mcp.URL(), i))
				if err != nil {
					t.Error(err)
					return
				}
				if got.AuthServer.Issuer != as.URL() || got.Resource != fmt.Sprintf("%s/tenant%d/mcp", mcp.URL(), i) {
					t.Errorf("discovery %d = %+v", i, got)
				}
			})
		}
		wg.Wait()
	}
	fetches := func() int { return len(as.requestsTo("/.well-known/oauth-authorization-server")) }

	discoverAll()
	if n := fetches(); n != 1 {
		t.Fatalf("%d servers at once fetched the metadata %d times, want 1", servers, n)
	}
	clock.Lock()
	now = now.Add(59 * time.Second)
	clock.Unlock()
	discoverAll()
	if n := fetches(); n != 1 {
		t.Fatalf("within the TTL: %d fetches, want 1", n)
	}
	clock.Lock()
	now = now.Add(time.Second)
	clock.Unlock()
	discoverAll()
	if n := fetches(); n != 2 {
		t.Fatalf("after the TTL: %d fetches, want 2", n)
	}
}

// A failed fetch is not remembered: the next discovery asks again.
func TestDiscovererDoesNotCacheFailures(t *testing.T) {
	as := newFake(t)
	mcp := newFake(t)
	mcp.mcp401("/mcp", "Bearer")
	mcp.json("/.well-known/oauth-protected-resource/mcp", prmDoc(mcp.URL()+"/mcp", as.URL()))
	d := &Discoverer{}
	if _, err := d.Discover(context.Background(), testClient(), mcp.URL()+"/mcp"); err == nil {
		t.Fatal("discovery without authorization server metadata succeeded")
	}
	as.json("/.well-known/oauth-authorization-server", asDoc(as.URL(), as.URL()))
	if _, err := d.Discover(context.Background(), testClient(), mcp.URL()+"/mcp"); err != nil {
		t.Fatalf("the metadata is served now, but: %v", err)
	}
}
