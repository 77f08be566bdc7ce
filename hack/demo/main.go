// Command demo is `make demo`: mcp-operator running for real on a local
// control plane, narrated step by step.
//
// It starts (or reuses) the local control plane of hack/local-cluster.sh,
// builds and starts the fake MCP + OAuth server, the manager and the callback
// server as processes (logs under .local/logs), applies config/samples, and
// walks through auto-configuration, a user's connect, the token Secret, a
// tool call as a chat pod makes it and a token refresh. It then keeps running
// until Ctrl-C and stops everything it started.
//
// DEMO_ONCE=1 runs the walkthrough and exits: 0 when every step succeeded,
// 1 naming the failing step otherwise.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Where the demo's pieces listen; config/samples uses the same addresses.
const (
	namespace    = "mcp-demo"
	demoUser     = "demo-user"
	userHeader   = "X-Forwarded-User"
	asAddr       = "127.0.0.1:9400"
	fakeMCPAddr  = "127.0.0.1:9401"
	noneAddr     = "127.0.0.1:9402"
	apiKeyAddr   = "127.0.0.1:9403" //nolint:gosec // G101: a listen address, not a credential
	callbackAddr = "127.0.0.1:8090"
	probeAddr    = "127.0.0.1:18081"
	// tokenTTL is short so the refresher visibly refreshes within a minute
	// (due at 80 % of the lifetime).
	tokenTTL = 60 * time.Second
)

func main() {
	os.Exit(run())
}

func run() int {
	repo, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	d := &demo{
		repo:  repo,
		local: filepath.Join(repo, ".local"),
		once:  os.Getenv("DEMO_ONCE") != "" && os.Getenv("DEMO_ONCE") != "0",
		start: time.Now(),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err = d.walkthrough(ctx)
	if err == nil && !d.once {
		d.explore()
		<-ctx.Done()
		fmt.Println()
		d.say("Ctrl-C: stopping everything the demo started")
	}
	d.teardown()
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Println("demo: interrupted")
		return 130
	case err != nil:
		var se *stepError
		if errors.As(err, &se) {
			fmt.Printf("\nDEMO FAILED at step %d (%s): %v\nLogs: %s\n", se.n, se.name, se.err, filepath.Join(d.local, "logs"))
		} else {
			fmt.Printf("\nDEMO FAILED: %v\n", err)
		}
		return 1
	}
	if d.once {
		fmt.Printf("\nDEMO PASSED: all %d steps succeeded in %s\n", d.steps, since(d.start))
	}
	return 0
}

// repoRoot is the directory holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "hack", "local-cluster.sh")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo from inside the mcp-operator repository (make demo)")
		}
		dir = parent
	}
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
