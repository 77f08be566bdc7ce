package e2e

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// identity is a ServiceAccount the e2e processes authenticate as.
type identity struct{ namespace, name string }

func (i identity) String() string { return "system:serviceaccount:" + i.namespace + ":" + i.name }

// The identities, as config/ names them. When config/ renames one, change
// it here.
var (
	// managerIdentity: config/rbac/service_account.yaml, in the namespace
	// config/default renders.
	managerIdentity = identity{"mcp-operator-system", "mcp-operator-manager"}
	// callbackIdentity: config/callback/service_account.yaml.
	callbackIdentity = identity{namespace, "chat-mcp-callback"}
	// chatPodIdentity: the subject of config/rbac/chat_reader_role.yaml's
	// RoleBinding. That file is an example for the chat app's own
	// manifests, which would also create the ServiceAccount.
	chatPodIdentity = identity{namespace, "chat"}
)

// renderedDefault is `kustomize build config/default`: the manager's RBAC
// and the webhook configurations come from it.
var renderedDefault []*unstructured.Unstructured

// installIdentities applies the ServiceAccounts and RBAC objects exactly as
// config/ renders them (config/default for the manager, config/callback for
// the callback server, config/rbac/chat_reader_role.yaml for the chat pod)
// and writes a kubeconfig per identity with a token from the TokenRequest
// API.
func installIdentities() map[identity]string {
	GinkgoHelper()
	root := envtestutil.RepoRoot()
	var err error
	renderedDefault, err = harness.Kustomize(ctx, root, "config/default")
	Expect(err).NotTo(HaveOccurred())
	renderedCallback, err := harness.Kustomize(ctx, root, "config/callback")
	Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "chat_reader_role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	chatReader, err := harness.DecodeManifests(data)
	Expect(err).NotTo(HaveOccurred())

	// The chat app's namespace and its chat pod's ServiceAccount come from
	// the chat app's manifests, not from config/.
	Expect(harness.EnsureNamespace(ctx, k8s, namespace)).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Namespace: chatPodIdentity.namespace, Name: chatPodIdentity.name}})).To(Succeed())
	for _, objs := range [][]*unstructured.Unstructured{renderedDefault, renderedCallback, chatReader} {
		rbac := harness.OfKinds(objs, harness.RBACKinds...)
		Expect(rbac).NotTo(BeEmpty())
		Expect(harness.Apply(ctx, k8s, "", rbac)).To(Succeed())
	}

	kubeconfigs := map[identity]string{}
	for _, id := range []identity{managerIdentity, callbackIdentity, chatPodIdentity} {
		path := filepath.Join(workDir, "kubeconfig-"+id.namespace+"-"+id.name)
		Expect(harness.ServiceAccountKubeconfig(ctx, cp.Config, id.namespace, id.name, path, time.Hour)).To(Succeed(), "%s", id)
		kubeconfigs[id] = path
	}
	return kubeconfigs
}
