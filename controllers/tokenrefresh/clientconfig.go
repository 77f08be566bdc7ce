package tokenrefresh

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
)

// configCache keeps each MCPServer's OAuth configuration with the
// resourceVersions it was built from: the MCPServer's and its client
// Secret's, both read from caches the manager keeps anyway. A refresh then
// reads the client Secret from the API server only after one of them
// changed, not once per refresh: with thousands of refreshes due at once,
// that is a third of the API requests they need under the client's rate
// limit.
type configCache struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]configEntry
	// loading serializes the loads of one server's configuration, so the
	// workers that find it missing together read the Secret once.
	loading map[types.NamespacedName]*sync.Mutex
}

type configEntry struct {
	serverVersion, secretVersion string
	cfg                          oauth.FlowConfig
}

func (c *configCache) get(key types.NamespacedName, serverVersion, secretVersion string) (oauth.FlowConfig, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.serverVersion != serverVersion || e.secretVersion != secretVersion {
		return oauth.FlowConfig{}, false
	}
	return e.cfg, true
}

func (c *configCache) put(key types.NamespacedName, serverVersion, secretVersion string, cfg oauth.FlowConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]configEntry{}
	}
	c.entries[key] = configEntry{serverVersion: serverVersion, secretVersion: secretVersion, cfg: cfg}
}

// lockLoad holds key's load lock until the returned func is called.
func (c *configCache) lockLoad(key types.NamespacedName) (unlock func()) {
	c.mu.Lock()
	if c.loading == nil {
		c.loading = map[types.NamespacedName]*sync.Mutex{}
	}
	l, ok := c.loading[key]
	if !ok {
		l = &sync.Mutex{}
		c.loading[key] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *configCache) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// loadConfig is serverconfig.Load through the cache. Without a version of
// the client Secret (no SecretMetadata reader, or the cache has not seen
// it yet) it always reads the Secret. The live read is never older than
// the cached version it is stored under, so a stale configuration is never
// served for a newer Secret.
func (r *Refresher) loadConfig(ctx context.Context, server *mcpv1.MCPServer) (oauth.FlowConfig, error) {
	key := types.NamespacedName{Namespace: server.Namespace, Name: server.Name}
	secretVersion := r.clientSecretVersion(ctx, server)
	if secretVersion != "" {
		defer r.configs.lockLoad(key)()
		if cfg, ok := r.configs.get(key, server.ResourceVersion, secretVersion); ok {
			return cfg, nil
		}
	}
	cfg, err := serverconfig.Load(ctx, r.APIReader, server)
	if err != nil {
		r.configs.forget(key)
		return cfg, err
	}
	if secretVersion != "" {
		r.configs.put(key, server.ResourceVersion, secretVersion, cfg)
	}
	return cfg, nil
}

// clientSecretVersion is the resourceVersion of server's client Secret in
// the manager's metadata cache; "" when unknown.
func (r *Refresher) clientSecretVersion(ctx context.Context, server *mcpv1.MCPServer) string {
	st := server.Status.OAuth2
	if r.SecretMetadata == nil || st == nil || st.ClientSecretName == "" {
		return ""
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := r.SecretMetadata.Get(ctx, client.ObjectKey{Namespace: server.Namespace, Name: st.ClientSecretName}, m); err != nil {
		return ""
	}
	return m.ResourceVersion
}
