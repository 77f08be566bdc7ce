package oauth

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Discoverer discovers MCP servers' authorization servers like Discover,
// sharing what many servers have in common: the metadata of one
// authorization server is fetched once per MetadataTTL however many MCP
// servers name it, and discoveries running at the same time share one
// fetch. Only validated metadata is kept; a failure is never cached. The
// zero value is ready to use, and a nil *Discoverer caches nothing.
type Discoverer struct {
	// MetadataTTL is how long fetched metadata is used; 0 means
	// DefaultMetadataTTL.
	MetadataTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	metadata map[string]cachedAuthServer // by issuer
	inflight singleflight.Group
}

// DefaultMetadataTTL is how long a Discoverer uses an authorization
// server's metadata: short enough that moved endpoints are noticed soon,
// long enough that a fleet of servers behind one issuer costs one fetch.
const DefaultMetadataTTL = 5 * time.Minute

// maxCachedAuthServers bounds the cache; past it, expired entries are
// dropped, then the cache is emptied.
const maxCachedAuthServers = 1024

type cachedAuthServer struct {
	md      *AuthServerMetadata
	fetched time.Time
}

// Forget drops issuer's cached metadata, so the next discovery fetches it.
func (d *Discoverer) Forget(issuer string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.metadata, issuer)
}

// authServer is DiscoverAuthServer through the cache.
func (d *Discoverer) authServer(ctx context.Context, c *http.Client, issuer string) (*AuthServerMetadata, error) {
	if d == nil || !sharedTrust(c) {
		return DiscoverAuthServer(ctx, c, issuer)
	}
	if md := d.cached(issuer); md != nil {
		return md, nil
	}
	v, err, _ := d.inflight.Do(issuer, func() (any, error) {
		if md := d.cached(issuer); md != nil {
			return md, nil // fetched while this call waited for the lock
		}
		md, err := DiscoverAuthServer(ctx, c, issuer)
		if err == nil {
			d.store(issuer, md)
		}
		return md, err
	})
	if err != nil {
		return nil, err
	}
	md := *v.(*AuthServerMetadata) // callers get their own copy
	return &md, nil
}

func (d *Discoverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Discoverer) ttl() time.Duration {
	if d.MetadataTTL > 0 {
		return d.MetadataTTL
	}
	return DefaultMetadataTTL
}

// cached returns a copy of issuer's metadata when it is fresh, else nil.
func (d *Discoverer) cached(issuer string) *AuthServerMetadata {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.metadata[issuer]
	if !ok || d.now().Sub(e.fetched) >= d.ttl() {
		return nil
	}
	md := *e.md
	return &md
}

func (d *Discoverer) store(issuer string, md *AuthServerMetadata) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.metadata == nil {
		d.metadata = map[string]cachedAuthServer{}
	}
	if len(d.metadata) >= maxCachedAuthServers {
		for k, e := range d.metadata {
			if now.Sub(e.fetched) >= d.ttl() {
				delete(d.metadata, k)
			}
		}
		if len(d.metadata) >= maxCachedAuthServers {
			clear(d.metadata)
		}
	}
	d.metadata[issuer] = cachedAuthServer{md: md, fetched: now}
}
