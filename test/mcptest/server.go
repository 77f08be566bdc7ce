// Package mcptest serves a small real MCP server for tests, optionally
// guarded by one required header (as an APIKey or Headers server would be).
package mcptest

import (
	"context"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tools are the names of the tools the server offers.
var Tools = []string{"greet", "shout", "whisper"}

// NewServer starts an MCP server on 127.0.0.1 offering tools (Tools when
// none are given). When header is non-empty, requests without header=value
// get 401.
func NewServer(header, value string, tools ...string) *httptest.Server {
	if len(tools) == 0 {
		tools = Tools
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "mcptest", Version: "1.2.3"}, nil)
	for _, name := range tools {
		mcp.AddTool(server, &mcp.Tool{Name: name, Description: "test tool " + name},
			func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name}}}, nil, nil
			})
	}
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "" && r.Header.Get(header) != value {
			http.Error(w, "missing credentials", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
}
