package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

// EnforcingAdmissionPlugins are enabled on the enforcing control plane on top
// of kube-apiserver's defaults. OwnerReferencesPermissionEnforcement (on by
// default in OpenShift) lets only who may update an owner's finalizers set
// blockOwnerDeletion on its dependents.
var EnforcingAdmissionPlugins = []string{"OwnerReferencesPermissionEnforcement"}

// ControllerManagerControllers are the only controllers the enforcing
// control plane's kube-controller-manager runs: garbage collection and
// namespace deletion. Nothing here needs the others (no kubelet, no pods),
// and ServiceAccount tokens come from the TokenRequest API.
var ControllerManagerControllers = []string{"garbage-collector-controller", "namespace-controller"}

// Enforcing is a control plane that enforces what a real cluster does:
// kube-apiserver with RBAC (as envtest always runs it) and
// OwnerReferencesPermissionEnforcement, and kube-controller-manager, built
// from source like kube-apiserver, running the garbage collector and the
// namespace controller.
type Enforcing struct {
	Env *envtest.Environment
	// Config is a system:masters user's.
	Config *rest.Config
	// ControllerManager is the kube-controller-manager process.
	ControllerManager *Process
}

// StartEnforcing starts an enforcing control plane with the CRDs from
// config/ and waits until its garbage collector collects. Only the e2e suite
// needs it; envtest suites use envtestutil's plain control plane, which
// starts faster. The
// kube-controller-manager's log and kubeconfig go to logDir.
func StartEnforcing(ctx context.Context, logDir string) (_ *Enforcing, err error) {
	env, err := envtestutil.NewEnvironment()
	if err != nil {
		return nil, err
	}
	kcm := filepath.Join(env.BinaryAssetsDirectory, "kube-controller-manager")
	if _, err := os.Stat(kcm); err != nil {
		return nil, fmt.Errorf("no kube-controller-manager in %s (hack/envtest-assets.sh builds it): %w", env.BinaryAssetsDirectory, err)
	}
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", EnforcingAdmissionPlugins...)
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", env.BinaryAssetsDirectory, err)
	}
	e := &Enforcing{Env: env, Config: cfg}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()

	user, err := env.ControlPlane.AddUser(envtest.User{Name: "kube-controller-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding kube-controller-manager's user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	kubeconfigPath := filepath.Join(logDir, "kube-controller-manager.kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	e.ControllerManager, err = StartControllerManager(kcm, logDir, kubeconfigPath, ControllerManagerControllers)
	if err != nil {
		return nil, err
	}
	if err := WaitGarbageCollector(ctx, cfg, e.ControllerManager); err != nil {
		return nil, err
	}
	return e, nil
}

// Stop stops kube-controller-manager, then kube-apiserver and etcd.
func (e *Enforcing) Stop() error {
	kcmErr := e.ControllerManager.Stop(10 * time.Second)
	return errors.Join(kcmErr, e.Env.Stop())
}

// WaitGarbageCollector waits until the garbage collector deletes a
// ConfigMap whose owner is gone: proof that it has synced its graph and
// collects, so tests that rely on it do not race its start.
func WaitGarbageCollector(ctx context.Context, cfg *rest.Config, kcm *Process) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	cms := cs.CoreV1().ConfigMaps(metav1.NamespaceDefault)
	name := "gc-canary-" + rand.String(5)
	owner, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name + "-owner"}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the garbage collector's canary: %w", err)
	}
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
	}}}}
	if _, err := cms.Create(ctx, dependent, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the garbage collector's canary: %w", err)
	}
	if err := cms.Delete(ctx, owner.Name, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("deleting the garbage collector's canary owner: %w", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		if done, err := kcm.Exited(); done {
			return false, fmt.Errorf("kube-controller-manager exited (%v); see %s", err, kcm.LogPath) //nolint:errorlint // err may be nil
		}
		_, err := cms.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("the garbage collector did not delete a dependent of a deleted owner: %w; see %s", err, kcm.LogPath)
	}
	return nil
}
