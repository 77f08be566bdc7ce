// Package envtestutil starts a real kube-apiserver and etcd (built from
// source by hack/envtest-assets.sh) with the project's CRDs installed.
package envtestutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// assetsDir returns KUBEBUILDER_ASSETS, building the binaries when unset so
// a plain `go test` works too (seconds once they are cached).
func assetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	out, err := exec.Command(filepath.Join(RepoRoot(), "hack", "envtest-assets.sh")).Output()
	if err != nil {
		return "", fmt.Errorf("building envtest binaries with hack/envtest-assets.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// NewEnvironment describes a control plane with the CRDs from config/.
func NewEnvironment() (*envtest.Environment, error) {
	dir, err := assetsDir()
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}, nil
}

// Start starts a control plane with the CRDs from config/.
func Start() (*envtest.Environment, *rest.Config, error) {
	env, err := NewEnvironment()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", env.BinaryAssetsDirectory, err)
	}
	return env, cfg, nil
}

// StartWithWebhooks starts a control plane with the CRDs and the admission
// webhooks from config/webhook installed. The webhooks point at
// env.WebhookInstallOptions.LocalServingHost/LocalServingPort, where the
// caller serves them with the certificate in LocalServingCertDir.
func StartWithWebhooks() (*envtest.Environment, *rest.Config, error) {
	env, err := NewEnvironment()
	if err != nil {
		return nil, nil, err
	}
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		Paths:            []string{filepath.Join(RepoRoot(), "config", "webhook")},
		LocalServingHost: "127.0.0.1",
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting kube-apiserver and etcd with webhooks from %s: %w", env.BinaryAssetsDirectory, err)
	}
	return env, cfg, nil
}
