// Command client is the program the official MCP conformance suite
// (@modelcontextprotocol/conformance) drives to grade mcp-operator's OAuth
// client. It is a thin harness: every OAuth step is internal/oauth, called
// the way the operator calls it (the reconciler's discovery and
// registration, the callback server's authorization request and code
// exchange, the refresher's refresh), and MCP is the Go SDK's client.
//
// Usage (by the suite): client <server-url>, with MCP_CONFORMANCE_SCENARIO,
// MCP_CONFORMANCE_PROTOCOL_VERSION and, for some scenarios,
// MCP_CONFORMANCE_CONTEXT set. See test/conformance/README.md.
//
// Exit status: 0 when the scenario ran to its end, 1 when it failed (which
// the reject scenarios expect), 2 for a scenario this client does not run.
package main

import (
	"context"
	"log"
	"os"
	"strings"
	"time"
)

// scenarioTimeout stays inside the suite's 30 s per scenario.
const scenarioTimeout = 25 * time.Second

func main() {
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("conformance-client: ")
	if len(os.Args) < 2 {
		log.Print("usage: client <server-url>")
		os.Exit(2)
	}
	serverURL := os.Args[len(os.Args)-1]
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	if !strings.HasPrefix(scenario, "auth/") {
		log.Printf("scenario %q is not an auth scenario; not run", scenario)
		os.Exit(2)
	}
	cfg, err := loadConfig(serverURL)
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	if err := run(ctx, cfg); err != nil {
		log.Printf("scenario %s: %v", scenario, err)
		cancel()
		os.Exit(1)
	}
	log.Printf("scenario %s: done", scenario)
}

// run is one auth scenario: authorize as the operator would, then use the
// MCP server through the SDK with the token, re-authorizing as challenged.
func run(ctx context.Context, cfg config) error {
	a := newAuthorizer(cfg)
	if err := a.connect(ctx); err != nil {
		return err
	}
	return useServer(ctx, cfg, a)
}
