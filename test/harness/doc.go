// Package harness runs mcp-operator's real binaries as local processes
// against a local control plane and drives them as a chat app and a user's
// browser would. `make demo` (hack/demo) narrates it; the e2e suite
// (test/e2e) asserts on it.
package harness
