package mcptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
)

// NewEndlessToolList starts a hostile MCP server on 127.0.0.1: every
// tools/list page holds perPage tools with names nameLen bytes long and a
// fresh nextCursor, forever. pages counts the pages served.
func NewEndlessToolList(perPage, nameLen int) (srv *httptest.Server, pages *atomic.Int32) {
	pages = &atomic.Int32{}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&msg) != nil {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if msg.ID == nil { // a notification
			w.WriteHeader(http.StatusAccepted)
			return
		}
		var result any
		switch msg.Method {
		case "initialize":
			result = map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{"tools": map[string]any{}},
				"serverInfo": map[string]any{"name": "endless", "version": "1"}}
		case "tools/list":
			n := pages.Add(1)
			tools := make([]map[string]any, perPage)
			for i := range tools {
				name := fmt.Sprintf("p%d-t%d-", n, i)
				tools[i] = map[string]any{"name": name + strings.Repeat("x", max(nameLen-len(name), 0)), "inputSchema": map[string]any{"type": "object"}}
			}
			result = map[string]any{"tools": tools, "nextCursor": fmt.Sprint(n)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": result})
	}))
	return srv, pages
}
