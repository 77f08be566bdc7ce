package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLeaderElectionNamespace(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // never in a cluster here
	t.Setenv("KUBECONFIG", "")
	dir := t.TempDir()
	kubeconfig := func(namespace string) string {
		path := filepath.Join(dir, "kubeconfig-"+namespace)
		data := `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: admin, user: {token: "t"}}]
contexts: [{name: local, context: {cluster: local, user: admin, namespace: "` + namespace + `"}}]
current-context: local
`
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, flag, kubeconfig, want string
	}{
		{"the flag wins", "ops", kubeconfig("team-a"), "ops"},
		{"the kubeconfig context's namespace", "", kubeconfig("team-a"), "team-a"},
		{"a context without a namespace", "", kubeconfig(""), "default"},
	}
	for _, tc := range tests {
		got, err := leaderElectionNamespace(tc.flag, tc.kubeconfig)
		if err != nil || got != tc.want {
			t.Errorf("%s: leaderElectionNamespace = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		addr, host string
		port       int
		ok         bool
	}{
		{":9443", "", 9443, true},
		{"127.0.0.1:19443", "127.0.0.1", 19443, true},
		{"[::1]:9443", "::1", 9443, true},
		{"9443", "", 0, false},
		{"127.0.0.1:http", "", 0, false},
		{"127.0.0.1:0", "", 0, false},
	}
	for _, tc := range tests {
		host, port, err := splitHostPort(tc.addr)
		if (err == nil) != tc.ok || host != tc.host || port != tc.port {
			t.Errorf("splitHostPort(%q) = %q, %d, %v; want %q, %d, ok=%t", tc.addr, host, port, err, tc.host, tc.port, tc.ok)
		}
	}
}
