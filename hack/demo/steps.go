package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// startMCPServers starts fake-mcp-server (a process) and the small None and
// APIKey servers (served by the demo itself) at the samples' URLs.
func (d *demo) startMCPServers(ctx context.Context) error {
	p, err := harness.StartFakeServer(ctx, harness.FakeServerOptions{
		Bin: d.bins.FakeMCPServer, LogDir: d.logDir(),
		ASAddr: asAddr, MCPAddr: fakeMCPAddr, AccessTokenTTL: tokenTTL,
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, p)
	d.say("fake-mcp-server (pid %d): authorization server http://%s, MCP server http://%s/mcp", p.PID(), asAddr, fakeMCPAddr)
	d.say("  separate origins, dynamic client registration, PKCE, RFC 9207 iss, refresh-token rotation")
	d.say("  with reuse detection, access tokens valid %s", tokenTTL)

	none, err := harness.ServeSimpleMCP(noneAddr, "none-demo", "", "")
	if err != nil {
		return err
	}
	d.mcpServers = append(d.mcpServers, none)
	d.say("open MCP server:    %s (no credentials)", none.URL)

	key, err := d.sampleAPIKey()
	if err != nil {
		return err
	}
	withKey, err := harness.ServeSimpleMCP(apiKeyAddr, "apikey-demo", "X-API-Key", key)
	if err != nil {
		return err
	}
	d.mcpServers = append(d.mcpServers, withKey)
	d.say("API-key MCP server: %s (wants the X-API-Key header of Secret apikey-demo-key)", withKey.URL)
	return nil
}

// sampleAPIKey is the key in config/samples' APIKey Secret, so the server and
// the sample agree.
func (d *demo) sampleAPIKey() (string, error) {
	objs, err := harness.ReadManifests(d.samplesDir())
	if err != nil {
		return "", err
	}
	for _, o := range objs {
		if o.GetKind() == "Secret" && o.GetName() == "apikey-demo-key" {
			if v, ok, _ := unstructured.NestedString(o.Object, "stringData", "key"); ok {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("no Secret apikey-demo-key with stringData.key in %s", d.samplesDir())
}

func (d *demo) samplesDir() string { return filepath.Join(d.repo, "config", "samples") }

// startOperator starts the manager and the callback server.
func (d *demo) startOperator(ctx context.Context) error {
	m, err := harness.StartManager(ctx, harness.ManagerOptions{
		Bin: d.bins.Manager, LogDir: d.logDir(), Kubeconfig: d.kubeconfig(),
		CallbackURL: d.callbackURL(), ProbeAddr: probeAddr,
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, m)
	d.say("manager (pid %d): --callback-url=%s --allow-loopback-egress --allow-insecure-http", m.PID(), d.callbackURL())

	cb, err := harness.StartCallback(ctx, harness.CallbackOptions{
		Bin: d.bins.Callback, LogDir: d.logDir(), Kubeconfig: d.kubeconfig(),
		Namespace: namespace, Listen: callbackAddr, PublicURL: d.callbackURL(),
		UserHeader: userHeader, CookieKeyFile: filepath.Join(d.local, "cluster", "callback-cookie.key"),
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, cb)
	d.say("callback server (pid %d): %s, namespace %s, user from the %s header", cb.PID(), d.callbackURL(), namespace, userHeader)
	d.say("  (trusted-header mode: in a real cluster only the authenticating proxy can reach it)")
	return nil
}

// applySamples removes what an earlier run left in the namespace, then
// applies config/samples.
func (d *demo) applySamples(ctx context.Context) error {
	if err := harness.EnsureNamespace(ctx, d.c, namespace); err != nil {
		return err
	}
	if err := harness.DeleteMCPServers(ctx, d.c, namespace, 20*time.Second); err != nil {
		return err
	}
	// Secrets of MCPServers deleted without a manager running: the garbage
	// collector deletes them.
	if err := harness.WaitOrphansCollected(ctx, d.c, namespace, 60*time.Second); err != nil {
		return err
	}
	objs, err := harness.ReadManifests(d.samplesDir())
	if err != nil {
		return err
	}
	if err := harness.Apply(ctx, d.c, namespace, objs); err != nil {
		return err
	}
	d.appliedSamples = true
	for _, o := range objs {
		line := fmt.Sprintf("%s/%s", strings.ToLower(o.GetKind()), o.GetName())
		if o.GetKind() == "MCPServer" {
			typ, _, _ := unstructured.NestedString(o.Object, "spec", "auth", "type")
			url, _, _ := unstructured.NestedString(o.Object, "spec", "url")
			line += fmt.Sprintf("  auth %-7s %s", typ, url)
		}
		d.say("applied %s", line)
	}
	return nil
}

// waitReady follows each sample MCPServer until Ready, printing every change
// of its conditions, then what the operator discovered.
func (d *demo) waitReady(ctx context.Context) error {
	for _, name := range []string{"oauth-demo", "apikey-demo", "none-demo"} {
		t := time.Now()
		d.say("%s:", name)
		s, err := harness.WaitMCPServer(ctx, d.c, client.ObjectKey{Namespace: namespace, Name: name}, 60*time.Second,
			harness.IsReady, func(s *mcpv1.MCPServer) { d.sayAt(t, "%s", harness.ConditionsSummary(s)) })
		if err != nil {
			return err
		}
		d.describeServer(s)
	}
	return nil
}

// describeServer prints what the operator found out about s.
func (d *demo) describeServer(s *mcpv1.MCPServer) {
	if o := s.Status.OAuth2; o != nil {
		d.say("  issuer:        %s", o.Issuer)
		d.say("  registration:  %s (client %s, credentials in Secret %s)", o.Registration, o.ClientID, o.ClientSecretName)
		d.say("  redirect URI:  %s", o.RedirectURI)
		d.say("  resource:      %s   scopes: %s", o.Resource, strings.Join(o.Scopes, " "))
		d.say("  endpoints:     authorize %s, token %s", o.AuthorizationEndpoint, o.TokenEndpoint)
	}
	if s.Status.Server != nil {
		d.say("  server:        %s %s (MCP %s)", s.Status.Server.Name, s.Status.Server.Version, s.Status.Server.ProtocolVersion)
	}
	if len(s.Status.Tools) > 0 {
		d.say("  tools:         %s", strings.Join(s.Status.Tools, ", "))
	}
}

// connect drives the headless browser through connect → confirmation →
// authorize → callback.
func (d *demo) connect(ctx context.Context) error {
	b := harness.NewBrowser(d.callbackURL(), userHeader, demoUser)
	d.say("the chat UI opens %s/connect/%s/oauth-demo for %s, who presses Connect on the page naming their chat account (query strings hidden: they carry state and codes)",
		d.callbackURL(), namespace, demoUser)
	res, err := b.Connect(ctx, namespace, "oauth-demo")
	if res != nil {
		for _, h := range res.Hops {
			d.say("  %s", h)
		}
	}
	if err != nil {
		return err
	}
	d.say("the authorization server auto-approved; the callback page closes the popup")
	conns, err := b.Connections(ctx)
	if err != nil {
		return err
	}
	d.say("GET /connections as %s (what a chat UI shows):", demoUser)
	d.printConnections(conns)
	return nil
}

// printConnections renders the callback server's /connections answer, one
// server a line.
func (d *demo) printConnections(list *harness.ConnectionList) {
	if len(list.Connections) == 0 {
		d.say("  (no MCP servers)")
		return
	}
	for _, c := range list.Connections {
		line := fmt.Sprintf("  %-12s %-7s connected=%t", c.Name, c.AuthType, c.Connected)
		if c.Expiry != nil {
			line += " expiry=" + c.Expiry.Format(time.RFC3339)
		}
		if len(c.Scopes) > 0 {
			line += fmt.Sprintf(" scopes=%v", c.Scopes)
		}
		d.say("%s", line)
	}
}

// showTokenSecret prints the user's token Secret, values redacted.
func (d *demo) showTokenSecret(ctx context.Context) error {
	v, err := harness.WaitTokenView(ctx, d.c, namespace, "oauth-demo", demoUser, 10*time.Second,
		func(*harness.TokenView) bool { return true })
	if err != nil {
		return err
	}
	d.block(v.Lines())
	d.tokenAtConnect = v
	return nil
}

// callTools calls a tool on each server exactly as a chat pod would.
func (d *demo) callTools(ctx context.Context) error {
	for _, c := range []struct {
		server, tool string
		args         map[string]any
	}{
		{"oauth-demo", "echo", map[string]any{"message": "hello from " + demoUser}},
		{"apikey-demo", "hello", nil},
		{"none-demo", "hello", nil},
	} {
		res, err := harness.ChatPodCall(ctx, d.c, namespace, c.server, demoUser, c.tool, c.args)
		if err != nil {
			return err
		}
		d.say("%-12s tools [%s]; %s → %q", c.server, strings.Join(res.Tools, " "), c.tool, res.Text)
	}
	return nil
}

// watchRefresh waits for the refresher to replace the access token of the
// same grant, then calls a tool with the new token.
func (d *demo) watchRefresh(ctx context.Context) error {
	before := d.tokenAtConnect
	exp, err := time.Parse(time.RFC3339, before.Expiry)
	if err != nil {
		return fmt.Errorf("token Secret %s: expiry %q is not RFC 3339: %w", before.Name, before.Expiry, err)
	}
	d.say("current access token expires at %s (in %s); the refresher renews it at ~80 %% of its lifetime",
		exp.Format(time.TimeOnly), time.Until(exp).Round(time.Second))
	after, err := harness.WaitTokenView(ctx, d.c, namespace, "oauth-demo", demoUser, tokenTTL+30*time.Second,
		func(v *harness.TokenView) bool { return v.AccessTokenChanged(before) })
	if err != nil {
		return err
	}
	newExp, _ := time.Parse(time.RFC3339, after.Expiry)
	d.say("refreshed at %s, %s before the old token expired", time.Now().Format(time.TimeOnly), time.Until(exp).Round(time.Second))
	d.say("  new expiry %s; refresh token rotated: %t; same grant: %t; state: %s",
		newExp.Format(time.TimeOnly), after.RefreshTokenChanged(before), after.GrantID == before.GrantID, after.State)
	if after.GrantID != before.GrantID {
		return fmt.Errorf("the grant changed (%s → %s): a refresh must keep the user's grant", before.GrantID, after.GrantID)
	}
	res, err := harness.ChatPodCall(ctx, d.c, namespace, "oauth-demo", demoUser, "echo", map[string]any{"message": "still here"})
	if err != nil {
		return fmt.Errorf("tool call with the refreshed token: %w", err)
	}
	d.say("tool call with the refreshed token: echo → %q", res.Text)
	return nil
}
