package main

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

const saPath = "/var/run/secrets/kubernetes.io/serviceaccount"

func readYAML(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "callback", name)) //nolint:gosec // G304: a file of the repository named by the test
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestChatDeploymentGivesOnlyTheSidecarCredentials: the example chat pod
// runs as the callback's ServiceAccount, but the chat container holds no
// Kubernetes token; the sidecar alone mounts the projected one, and the
// sidecar's args are flags this binary accepts, the token endpoint among them.
func TestChatDeploymentGivesOnlyTheSidecarCredentials(t *testing.T) {
	var dep appsv1.Deployment
	readYAML(t, "chat_deployment.yaml", &dep)
	var sa corev1.ServiceAccount
	readYAML(t, "service_account.yaml", &sa)
	var binding rbacv1.RoleBinding
	readYAML(t, "role_binding.yaml", &binding)

	pod := dep.Spec.Template.Spec
	if a := pod.AutomountServiceAccountToken; a == nil || *a {
		t.Errorf("automountServiceAccountToken = %v, want false: the token would reach the chat container", a)
	}
	if pod.ServiceAccountName != sa.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != sa.Name {
		t.Errorf("the pod runs as %q; the ServiceAccount is %q, the RoleBinding binds %+v", pod.ServiceAccountName, sa.Name, binding.Subjects)
	}

	tokenVolumes := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				tokenVolumes[v.Name] = true
			}
		}
	}
	if len(tokenVolumes) != 1 {
		t.Fatalf("projected ServiceAccount token volumes: %v, want one", tokenVolumes)
	}

	var sidecar *corev1.Container
	for i := range pod.Containers {
		c := &pod.Containers[i]
		var mountsToken bool
		for _, m := range c.VolumeMounts {
			if tokenVolumes[m.Name] || strings.HasPrefix(m.MountPath, "/var/run/secrets/kubernetes.io") {
				mountsToken = true
				if m.MountPath != saPath || !m.ReadOnly {
					t.Errorf("%s mounts the token at %s (read-only %v), want %s read-only", c.Name, m.MountPath, m.ReadOnly, saPath)
				}
			}
		}
		if c.Name == "mcp-callback" {
			sidecar = c
			if !mountsToken {
				t.Error("the mcp-callback container does not mount the projected ServiceAccount token")
			}
		} else if mountsToken {
			t.Errorf("container %s mounts the ServiceAccount token: only the callback sidecar may", c.Name)
		}
	}
	if sidecar == nil {
		t.Fatal("no mcp-callback container")
	}

	fs := flag.NewFlagSet("callback", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := bindFlags(fs)
	if err := fs.Parse(sidecar.Args); err != nil {
		t.Fatalf("the sidecar's args: %v", err)
	}
	if err := o.check(); err != nil {
		t.Errorf("the sidecar's args: %v", err)
	}
	if o.tokenListen == "" {
		t.Error("the example sidecar does not serve the token endpoint (--token-listen)")
	}
	_, opsPort, err := net.SplitHostPort(o.opsListen)
	if err != nil {
		t.Fatalf("the sidecar's --ops-listen %q: %v", o.opsListen, err)
	}
	if o.opsListen == o.listen || strings.HasPrefix(o.opsListen, "127.") {
		t.Errorf("--ops-listen %q: want a listener of its own the kubelet reaches", o.opsListen)
	}
	for _, p := range []*corev1.Probe{sidecar.LivenessProbe, sidecar.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatal("the sidecar has no HTTP liveness or readiness probe")
		}
		port := p.HTTPGet.Port.String()
		for _, cp := range sidecar.Ports {
			if cp.Name == port {
				port = strconv.Itoa(int(cp.ContainerPort))
			}
		}
		if port != opsPort {
			t.Errorf("probe %s on port %s, want --ops-listen's %s", p.HTTPGet.Path, port, opsPort)
		}
	}
	var endpoint string
	for _, c := range pod.Containers {
		for _, e := range c.Env {
			if e.Name == "MCP_TOKEN_ENDPOINT" {
				endpoint = e.Value
			}
		}
	}
	if endpoint != "http://"+o.tokenListen {
		t.Errorf("the chat container's MCP_TOKEN_ENDPOINT is %q, the sidecar's --token-listen %q", endpoint, o.tokenListen)
	}
}

// TestTokenListenRefusals: the token endpoint only on loopback, and only in
// ticket mode; run refuses before it reads a key or reaches the API server.
func TestTokenListenRefusals(t *testing.T) {
	base := options{namespace: "chat", publicURL: "https://chat.example.com/mcp-auth",
		cookieKeyFile: "/nonexistent/cookie.key", ticketKeyFile: "/nonexistent/ticket.key"}
	cases := []struct {
		name, listen, want string
		noTicketKey        bool
	}{
		{name: "all interfaces", listen: "0.0.0.0:8091", want: "--token-listen"},
		{name: "no host", listen: ":8091", want: "--token-listen"},
		{name: "a pod IP", listen: "10.0.0.7:8091", want: "not a loopback address"},
		{name: "a name", listen: "localhost:8091", want: "not a loopback address"},
		{name: "IPv6 unspecified", listen: "[::]:8091", want: "--token-listen"},
		{name: "no port", listen: "127.0.0.1", want: "--token-listen"},
		{name: "header mode only", listen: "127.0.0.1:8091", noTicketKey: true, want: "--token-listen needs --ticket-key-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.tokenListen = tc.listen
			if tc.noTicketKey {
				o.ticketKeyFile, o.userHeader = "", "X-Forwarded-User"
			}
			err := run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{"127.0.0.1:8091", "127.0.0.2:0", "[::1]:8091"} {
		o := base
		o.tokenListen = ok
		if err := o.check(); err != nil {
			t.Errorf("--token-listen=%s: %v", ok, err)
		}
	}
}

// TestReadKeys: a rotation names the new key file, then the old one; each
// must hold enough random bytes, and the error names the flag and file.
func TestReadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Repeat("k", n)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey, oldKey, short := write("new.key", 32), write("old.key", 40), write("short.key", 8)
	keys, err := readKeys("cookie-key-file", newKey+","+oldKey)
	if err != nil || len(keys) != 2 || len(keys[0]) != 32 || len(keys[1]) != 40 {
		t.Fatalf("readKeys = %d keys, %v; want the new key then the old one", len(keys), err)
	}
	if keys, err := readKeys("ticket-key-file", ""); err != nil || keys != nil {
		t.Errorf("no files: %v, %v; want none configured", keys, err)
	}
	if _, err := readKeys("cookie-key-file", newKey+","+short); err == nil || !strings.Contains(err.Error(), "--cookie-key-file "+short) {
		t.Errorf("a short key: %v, want an error naming the flag and the file", err)
	}
}
