package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binaries are the paths of the project's commands, built from source.
type Binaries struct {
	Manager       string
	Callback      string
	FakeMCPServer string
}

// commands are the packages BuildBinaries builds, by binary name.
var commands = map[string]string{
	"manager":         "./cmd/manager",
	"callback":        "./cmd/callback",
	"fake-mcp-server": "./test/fakeauth/cmd/fake-mcp-server",
}

// BuildBinaries builds the manager, the callback server and the fake MCP +
// OAuth server into dir with `go build` (incremental: seconds when cached).
func BuildBinaries(repoRoot, dir string) (Binaries, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, pkg := range commands {
		args = append(args, pkg)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build of %v: %w\n%s", commands, err, out)
	}
	return Binaries{
		Manager:       filepath.Join(dir, "manager"),
		Callback:      filepath.Join(dir, "callback"),
		FakeMCPServer: filepath.Join(dir, "fake-mcp-server"),
	}, nil
}
