package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// SimpleMCPServer is a small MCP server for the None and APIKey samples:
// one tool, "hello", optionally behind one required header.
type SimpleMCPServer struct {
	URL string
	srv *http.Server
}

// ServeSimpleMCP serves an MCP endpoint at http://addr/mcp. With header set,
// requests without header=value get 401, as an API-key server would answer.
func ServeSimpleMCP(addr, name, header, value string) (*SimpleMCPServer, error) {
	server := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "hello", Description: "Says hello."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello from " + name}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "" && r.Header.Get(header) != value {
			http.Error(w, "missing or wrong "+header, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("MCP server %s: listening on %s: %w", name, addr, err)
	}
	s := &SimpleMCPServer{
		URL: "http://" + ln.Addr().String() + "/mcp",
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("MCP server %s stopped: %v\n", name, err)
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *SimpleMCPServer) Close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
