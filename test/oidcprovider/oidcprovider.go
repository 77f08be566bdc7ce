// Package oidcprovider runs a third-party authorization server for tests:
// node-oidc-provider (OpenID Certified; pinned by package-lock.json here,
// configured by server.mjs) as a Node process on 127.0.0.1, and in front of
// it a protected MCP server that accepts only its JWT access tokens (RFC
// 9068), checked against the provider's signing key.
//
// Node and the provider are installed by hack/oidc-provider.sh into a cache
// outside the repository (`make oidc-provider`, part of `make test`); Start
// uses OIDC_PROVIDER_DIR, or asks the script where the installation is, and
// never installs anything itself.
package oidcprovider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mcp-operator/mcp-operator/test/harness"
)

// Options configure Start.
type Options struct {
	// ResourceScopes are the MCP server's scopes: its PRM scopes_supported,
	// its 401 challenge and the provider's scopes for it; default
	// mcp:read mcp:tools. Tools need mcp:read.
	ResourceScopes []string
	// ConsentScopes are what the test user consents to; other scopes asked
	// for are refused (partial consent). Empty: everything asked for.
	ConsentScopes []string
	// AccessTokenTTL is the access token lifetime; default 1h, whole seconds.
	AccessTokenTTL time.Duration
	// Account is the test user's subject; default "op-user".
	Account string
	// LogDir receives oidc-provider.log.
	LogDir string
}

// Server is a running provider and the MCP server it protects.
type Server struct {
	// Issuer is the provider's issuer, http://127.0.0.1:<port>.
	Issuer string
	*ResourceServer
	proc *harness.Process
}

// Start starts the provider and the MCP server and waits until the
// provider's discovery document answers. Stop them with Close.
func Start(ctx context.Context, o Options) (*Server, error) {
	if len(o.ResourceScopes) == 0 {
		o.ResourceScopes = []string{"mcp:read", "mcp:tools"}
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.Account == "" {
		o.Account = "op-user"
	}
	dir, err := installDir()
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the signing key: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	rs, err := serveResource(issuer, &key.PublicKey, o.ResourceScopes)
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"port": port, "issuer": issuer, "resource": rs.MCPURL,
		"resourceScopes": strings.Join(o.ResourceScopes, " "), "consentScopes": strings.Join(o.ConsentScopes, " "),
		"accessTokenTTL": int(o.AccessTokenTTL / time.Second), "account": o.Account, "jwk": privateJWK(key), "dir": dir,
	}
	if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		rs.Close()
		return nil, fmt.Errorf("creating %s: %w", o.LogDir, err)
	}
	cfgPath := filepath.Join(o.LogDir, "oidc-provider.json")
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		rs.Close()
		return nil, fmt.Errorf("writing %s: %w", cfgPath, err)
	}
	p, err := harness.StartProcess("oidc-provider", o.LogDir, filepath.Join(dir, "node"), filepath.Join(sourceDir(), "server.mjs"), cfgPath)
	if err != nil {
		rs.Close()
		return nil, err
	}
	s := &Server{Issuer: issuer, ResourceServer: rs, proc: p}
	if err := harness.WaitHTTP(ctx, p, issuer+"/.well-known/openid-configuration", 30*time.Second); err != nil {
		s.Close()
		return nil, fmt.Errorf("oidc-provider did not start (log: %s): %w", p.LogPath, err)
	}
	return s, nil
}

// Close stops the provider and the MCP server.
func (s *Server) Close() {
	if s.proc != nil {
		_ = s.proc.Stop(5 * time.Second)
	}
	s.ResourceServer.Close()
}

// LogPath is the provider's log: every error it answered with, by event.
func (s *Server) LogPath() string { return s.proc.LogPath }

// installDir is OIDC_PROVIDER_DIR, else the installation
// hack/oidc-provider.sh reports (without installing).
func installDir() (string, error) {
	if dir := os.Getenv("OIDC_PROVIDER_DIR"); dir != "" {
		return dir, nil
	}
	script := filepath.Join(sourceDir(), "..", "..", "hack", "oidc-provider.sh")
	out, err := exec.Command(script, "installed").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("node-oidc-provider is not installed: run hack/oidc-provider.sh (make oidc-provider) once: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("running %s: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sourceDir is this package's directory, which holds server.mjs.
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// privateJWK is key as the JWK oidc-provider signs with (RFC 7518 §6.2).
func privateJWK(key *ecdsa.PrivateKey) map[string]string {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	pub, _ := key.PublicKey.Bytes() // uncompressed point: 0x04 || X || Y
	priv, _ := key.Bytes()
	return map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "test-es256", "alg": "ES256", "use": "sig",
		"x": b64(pub[1:33]), "y": b64(pub[33:65]), "d": b64(priv),
	}
}
