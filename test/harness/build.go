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
	return Build(repoRoot, dir, "manager", "callback", "fake-mcp-server")
}

// Build builds only the named binaries (manager, callback,
// fake-mcp-server) into dir: linking is most of a cached build. The paths
// of the others are empty.
func Build(repoRoot, dir string, names ...string) (Binaries, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	built := map[string]string{}
	for _, name := range names {
		pkg, ok := commands[name]
		if !ok {
			return Binaries{}, fmt.Errorf("no command %q to build", name)
		}
		args = append(args, pkg)
		built[name] = filepath.Join(dir, name)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build of %v: %w\n%s", names, err, out)
	}
	return Binaries{
		Manager:       built["manager"],
		Callback:      built["callback"],
		FakeMCPServer: built["fake-mcp-server"],
	}, nil
}
