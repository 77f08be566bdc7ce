package main

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// useServer does what the Go SDK's conformance client does once connected:
// initialize (or, at 2026-07-28, server/discover), tools/list and a
// tools/call of test-tool, all through bearerTransport.
func useServer(ctx context.Context, cfg config, a *authorizer) error {
	session, err := newSession(ctx, cfg, a)
	if err != nil {
		return err
	}
	defer func() { _ = session.Close() }()

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	log.Printf("tools/list: %d tools", len(tools.Tools))
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "test-tool", Arguments: map[string]any{}})
	if err != nil {
		return fmt.Errorf("tools/call test-tool: %w", err)
	}
	if res.IsError {
		return fmt.Errorf("tools/call test-tool returned a tool error")
	}
	log.Print("tools/call test-tool: ok")
	return nil
}

// newSession connects the Go SDK client through bearerTransport, at the
// protocol version the suite asks for.
func newSession(ctx context.Context, cfg config, a *authorizer) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-operator-conformance", Version: "1.0.0"}, nil)
	transport := &mcp.StreamableClientTransport{
		Endpoint: cfg.ServerURL,
		// MCP traffic goes through the same guarded transport as OAuth
		// traffic, without the OAuth client's overall timeout (streams).
		HTTPClient: &http.Client{Transport: &bearerTransport{a: a, base: a.http.Transport}},
		// One request at a time keeps the suite's request log readable.
		DisableStandaloneSSE: true,
	}
	var opts *mcp.ClientSessionOptions
	if cfg.ProtocolVersion != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: cfg.ProtocolVersion}
	}
	session, err := client.Connect(ctx, transport, opts)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	log.Printf("connected, protocol version %s", session.InitializeResult().ProtocolVersion)
	return session, nil
}
