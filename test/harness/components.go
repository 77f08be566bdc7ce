package harness

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ManagerOptions start the manager binary.
type ManagerOptions struct {
	Bin         string
	LogDir      string
	Kubeconfig  string
	CallbackURL string
	ProbeAddr   string // 127.0.0.1:port of /healthz and /readyz
	// LeaderElect turns on leader election, as in a real deployment.
	LeaderElect bool
	// LeaderElectionNamespace is --leader-election-namespace; empty: the
	// manager's default (the kubeconfig context's namespace).
	LeaderElectionNamespace string
	// Webhooks, when set, serves the admission webhooks.
	Webhooks *WebhookServing
	// ExtraArgs are appended, e.g. "--zap-log-level=debug".
	ExtraArgs []string
}

// WebhookServing is where the manager serves its admission webhooks.
type WebhookServing struct {
	Addr    string // 127.0.0.1:port
	CertDir string // tls.crt and tls.key, see WriteServingCert
}

// StartManager runs the manager with loopback and plain-http egress allowed
// (the demo and tests are the only places they are) and waits for /readyz.
func StartManager(ctx context.Context, o ManagerOptions) (*Process, error) {
	args := []string{
		"--kubeconfig=" + o.Kubeconfig,
		"--callback-url=" + o.CallbackURL,
		"--allow-loopback-egress", "--allow-insecure-http",
		fmt.Sprintf("--leader-elect=%t", o.LeaderElect),
		"--metrics-bind-address=0",
		"--health-probe-bind-address=" + o.ProbeAddr,
	}
	if o.Webhooks != nil {
		args = append(args, "--enable-webhooks=true",
			"--webhook-bind-address="+o.Webhooks.Addr, "--webhook-cert-dir="+o.Webhooks.CertDir)
	} else {
		// Webhooks need serving certificates and a registration.
		args = append(args, "--enable-webhooks=false")
	}
	if o.LeaderElectionNamespace != "" {
		args = append(args, "--leader-election-namespace="+o.LeaderElectionNamespace)
	}
	args = append(args, o.ExtraArgs...)
	p, err := StartProcess("manager", o.LogDir, o.Bin, args...)
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, p, "http://"+o.ProbeAddr+"/readyz", 60*time.Second); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// CallbackOptions start the callback server binary.
type CallbackOptions struct {
	Bin        string
	LogDir     string
	Kubeconfig string
	Namespace  string
	Listen     string // 127.0.0.1:port
	PublicURL  string // http://127.0.0.1:port
	// UserHeader enables trusted-header mode (the demo's stand-in for an
	// authenticating proxy).
	UserHeader string
	// CookieKeyFile is created with 32 random bytes when missing.
	CookieKeyFile string
	// TicketKeyFile, when set, enables ticket mode; it is created with 32
	// random bytes when missing (read it to mint tickets).
	TicketKeyFile string
	// TokenListen, when set, serves the token endpoint there
	// (--token-listen, 127.0.0.1:port); it needs TicketKeyFile.
	TokenListen string
	// OpsListen is where probes and metrics are served (--ops-listen,
	// 127.0.0.1:port); empty picks a free port.
	OpsListen string
	ExtraArgs []string
}

// StartCallback runs the callback server and waits for /readyz.
func StartCallback(ctx context.Context, o CallbackOptions) (*Process, error) {
	if err := ensureKeyFile(o.CookieKeyFile); err != nil {
		return nil, err
	}
	if o.OpsListen == "" {
		var err error
		if o.OpsListen, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"--kubeconfig=" + o.Kubeconfig,
		"--namespace=" + o.Namespace,
		"--listen=" + o.Listen,
		"--public-url=" + o.PublicURL,
		"--cookie-key-file=" + o.CookieKeyFile,
		"--ops-listen=" + o.OpsListen,
		"--allow-loopback-egress", "--allow-insecure-http",
	}
	if o.UserHeader != "" {
		args = append(args, "--user-header="+o.UserHeader)
	}
	if o.TicketKeyFile != "" {
		if err := ensureKeyFile(o.TicketKeyFile); err != nil {
			return nil, err
		}
		args = append(args, "--ticket-key-file="+o.TicketKeyFile)
	}
	if o.TokenListen != "" {
		args = append(args, "--token-listen="+o.TokenListen)
	}
	args = append(args, o.ExtraArgs...)
	p, err := StartProcess("callback", o.LogDir, o.Bin, args...)
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, p, "http://"+o.OpsListen+"/readyz", 60*time.Second); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// StartControllerManager runs kube-controller-manager (bin) with only
// controllers, as kubeconfig's user, bound to loopback: no leader election,
// no serving port (readiness is for the caller to prove by behaviour, e.g.
// a garbage-collected canary).
func StartControllerManager(bin, logDir, kubeconfig string, controllers []string) (*Process, error) {
	return StartProcess("kube-controller-manager", logDir, bin,
		"--kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0",
		"--bind-address=127.0.0.1",
		// Every controller acts as kubeconfig's user.
		"--use-service-account-credentials=false",
	)
}

// FakeServerOptions start the fake OAuth authorization server + MCP server.
type FakeServerOptions struct {
	Bin            string
	LogDir         string
	ASAddr         string
	MCPAddr        string
	AccessTokenTTL time.Duration
}

// StartFakeServer runs fake-mcp-server in its realistic mode (separate
// origins, DCR, rotation with reuse detection, RFC 9207 iss) and waits until
// its authorization server metadata answers.
func StartFakeServer(ctx context.Context, o FakeServerOptions) (*Process, error) {
	args := []string{"--as-addr=" + o.ASAddr, "--mcp-addr=" + o.MCPAddr}
	if o.AccessTokenTTL > 0 {
		args = append(args, "--access-token-ttl="+o.AccessTokenTTL.String())
	}
	p, err := StartProcess("fake-mcp-server", o.LogDir, o.Bin, args...)
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, p, "http://"+o.ASAddr+"/.well-known/oauth-authorization-server", 30*time.Second); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// WaitHTTP polls url until it answers 200, p exits, or timeout passes.
func WaitHTTP(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if done, err := p.Exited(); done {
			// err is nil after a clean exit: %w would print "%!w(<nil>)".
			return fmt.Errorf("%s exited before %s answered (%v); see %s", p.Name, url, err, p.LogPath) //nolint:errorlint // see above
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s did not answer 200 within %s; see %s", p.Name, url, timeout, p.LogPath)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureKeyFile writes 32 random bytes to path unless it exists.
func ensureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generating %s: %w", path, err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
