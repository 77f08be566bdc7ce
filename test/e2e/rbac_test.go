package e2e

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// access is one row of the least-privilege contract: whether who may do
// verb on resource ("mcpservers/status" names a subresource) of group in
// namespace ("" for every namespace).
type access struct {
	who       identity
	verb      string
	group     string
	resource  string
	namespace string
	allowed   bool
}

const (
	core = ""
	mcp  = "mcpoperator.io"
	// elsewhere is a namespace that is neither the chat app's nor the
	// operator's.
	elsewhere = "default"
)

// leastPrivilege is what the manager, the callback server and a chat pod
// may and may not do, as the RBAC of config/ grants it. Each row is asked
// of the API server as `kubectl auth can-i` does (a SelfSubjectAccessReview
// with the identity's own token). Change config/ and this table together.
var leastPrivilege = []access{
	// The manager reconciles MCPServers cluster-wide and owns their client
	// Secrets; it never creates or deletes an MCPServer.
	{managerIdentity, "list", mcp, "mcpservers", "", true},
	{managerIdentity, "watch", mcp, "mcpservers", "", true},
	{managerIdentity, "update", mcp, "mcpservers/status", namespace, true},
	{managerIdentity, "update", mcp, "mcpservers/finalizers", namespace, true},
	{managerIdentity, "create", mcp, "mcpservers", namespace, false},
	{managerIdentity, "delete", mcp, "mcpservers", namespace, false},
	{managerIdentity, "list", core, "secrets", "", true},
	{managerIdentity, "watch", core, "secrets", "", true},
	{managerIdentity, "create", core, "secrets", namespace, true},
	{managerIdentity, "delete", core, "secrets", namespace, true},
	{managerIdentity, "create", "events.k8s.io", "events", namespace, true},
	{managerIdentity, "update", "coordination.k8s.io", "leases", managerIdentity.namespace, true},
	{managerIdentity, "update", "coordination.k8s.io", "leases", namespace, false},
	// ConfigMaps: only get, the one spec.caBundleRef names (read live, never listed or cached).
	{managerIdentity, "get", core, "configmaps", namespace, true},
	{managerIdentity, "list", core, "configmaps", namespace, false},
	{managerIdentity, "update", core, "configmaps", namespace, false},
	{managerIdentity, "create", core, "pods", namespace, false},
	{managerIdentity, "create", "rbac.authorization.k8s.io", "rolebindings", namespace, false},

	// The callback server connects users of its one namespace: it reads
	// MCPServers and writes token Secrets it finds by name, owned by
	// (blockOwnerDeletion) their MCPServer.
	{callbackIdentity, "get", mcp, "mcpservers", namespace, true},
	{callbackIdentity, "list", mcp, "mcpservers", namespace, true},
	{callbackIdentity, "get", core, "secrets", namespace, true},
	{callbackIdentity, "create", core, "secrets", namespace, true},
	{callbackIdentity, "update", core, "secrets", namespace, true},
	{callbackIdentity, "delete", core, "secrets", namespace, true},
	{callbackIdentity, "update", mcp, "mcpservers/finalizers", namespace, true},
	{callbackIdentity, "patch", mcp, "mcpservers", namespace, false},
	{callbackIdentity, "update", mcp, "mcpservers", namespace, false},
	{callbackIdentity, "update", mcp, "mcpservers/status", namespace, false},
	{callbackIdentity, "delete", mcp, "mcpservers", namespace, false},
	{callbackIdentity, "list", core, "secrets", namespace, false},
	{callbackIdentity, "watch", core, "secrets", namespace, false},
	{callbackIdentity, "list", mcp, "mcpservers", "", false},
	{callbackIdentity, "get", mcp, "mcpservers", elsewhere, false},
	{callbackIdentity, "get", core, "secrets", elsewhere, false},
	{callbackIdentity, "create", core, "secrets", managerIdentity.namespace, false},

	// A chat pod reads MCPServers and users' tokens (the example chat
	// reader Role); it never writes.
	{chatPodIdentity, "get", mcp, "mcpservers", namespace, true},
	{chatPodIdentity, "list", mcp, "mcpservers", namespace, true},
	{chatPodIdentity, "get", core, "secrets", namespace, true},
	{chatPodIdentity, "create", core, "secrets", namespace, false},
	{chatPodIdentity, "update", core, "secrets", namespace, false},
	{chatPodIdentity, "patch", core, "secrets", namespace, false},
	{chatPodIdentity, "delete", core, "secrets", namespace, false},
	{chatPodIdentity, "patch", mcp, "mcpservers", namespace, false},
	{chatPodIdentity, "update", mcp, "mcpservers/status", namespace, false},
	{chatPodIdentity, "update", mcp, "mcpservers/finalizers", namespace, false},
	{chatPodIdentity, "get", core, "secrets", elsewhere, false},
	{chatPodIdentity, "list", mcp, "mcpservers", "", false},
}

func (a access) String() string {
	may := "may"
	if !a.allowed {
		may = "may not"
	}
	where := "in every namespace"
	if a.namespace != "" {
		where = "in " + a.namespace
	}
	res := a.resource
	if a.group != "" {
		res += "." + a.group
	}
	return fmt.Sprintf("%s %s %s %s %s", a.who.name, may, a.verb, res, where)
}

var _ = Describe("The least-privilege contract of config/ RBAC, as `kubectl auth can-i` asks it", func() {
	clients := map[identity]kubernetes.Interface{}
	clientOf := func(id identity) kubernetes.Interface {
		if c, ok := clients[id]; ok {
			return c
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigs[id])
		Expect(err).NotTo(HaveOccurred())
		c, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		clients[id] = c
		return c
	}

	entries := make([]TableEntry, 0, len(leastPrivilege))
	for _, a := range leastPrivilege {
		entries = append(entries, Entry(a.String(), a))
	}
	DescribeTable("", func(a access) {
		resource, sub, _ := strings.Cut(a.resource, "/")
		review, err := clientOf(a.who).AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: resource, Subresource: sub,
			}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(review.Status.Allowed).To(Equal(a.allowed), "%s; the API server says allowed=%t (%s)", a, review.Status.Allowed, review.Status.Reason)
	}, entries)
})
