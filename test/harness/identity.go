package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kustomize renders dir (a kustomization under repoRoot's config/) with the
// pinned kustomize: $KUSTOMIZE, else the one `make kustomize-path` installs
// into bin/.
func Kustomize(ctx context.Context, repoRoot, dir string) ([]*unstructured.Unstructured, error) {
	bin, err := kustomizeBin(ctx, repoRoot)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "build", dir)
	cmd.Dir = repoRoot
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w: %s", dir, err, stderr.String())
	}
	objs, err := DecodeManifests(out)
	if err != nil {
		return nil, fmt.Errorf("decoding kustomize build %s: %w", dir, err)
	}
	return objs, nil
}

func kustomizeBin(ctx context.Context, repoRoot string) (string, error) {
	if bin := os.Getenv("KUSTOMIZE"); bin != "" {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "make", "-s", "--no-print-directory", "kustomize-path")
	cmd.Dir = repoRoot
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("make kustomize-path: %w: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// OfKinds are the objects of objs whose kind is one of kinds, in order.
func OfKinds(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// RBACKinds are the kinds that make up an identity and its permissions.
var RBACKinds = []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// ServiceAccountKubeconfig writes to path a kubeconfig for the
// ServiceAccount namespace/name of admin's cluster, with a token from the
// TokenRequest API valid for ttl (at least 10 minutes) and namespace as its
// context's namespace. The token is only ever written to path (mode 0600).
func ServiceAccountKubeconfig(ctx context.Context, admin *rest.Config, namespace, name, path string, ttl time.Duration) error {
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	seconds := int64(ttl / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{
		Server:                   admin.Host,
		CertificateAuthorityData: admin.CAData,
	}
	user := "system:serviceaccount:" + namespace + ":" + name
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = "local"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing the kubeconfig of %s: %w", user, err)
	}
	return os.Chmod(path, 0o600)
}
