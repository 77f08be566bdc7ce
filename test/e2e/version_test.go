package e2e

import (
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The binaries", func() {
	It("answer --version with their name and version, and exit 0", func() {
		for name, bin := range map[string]string{"manager": bins.Manager, "callback": bins.Callback} {
			out, err := exec.Command(bin, "--version").Output()
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(strings.TrimSpace(string(out))).To(MatchRegexp(`^mcp-operator `+name+` \S+ \(go[0-9.]+`), name)
		}
	})
})
