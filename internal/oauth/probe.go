package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/version"
)

// ProtocolVersion is the MCP protocol version the operator speaks: sent as
// MCP-Protocol-Version on discovery requests and in the probe's initialize.
const ProtocolVersion = "2025-11-25"

// ClientName is the MCP client implementation name the operator sends in
// initialize; its version is version.Get().
const ClientName = "mcp-operator"

// initializeBody is an unauthenticated MCP initialize request, which is what
// an MCP client sends first and what protected servers answer 401 to.
var initializeBody = rpcRequest(1, "initialize", map[string]any{
	"protocolVersion": ProtocolVersion,
	"capabilities":    map[string]any{},
	"clientInfo":      map[string]string{"name": ClientName, "version": version.Get()},
})

// toolsListBody is discovery's second probe: an operation every MCP server
// with tools protects.
var toolsListBody = rpcRequest(2, "tools/list", map[string]any{})

// rpcRequest encodes one JSON-RPC 2.0 request.
func rpcRequest(id int, method string, params any) []byte {
	b, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int    `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params"`
	}{"2.0", id, method, params})
	if err != nil {
		panic(err)
	}
	return b
}

// ProbeResult is how an MCP server answered one unauthenticated request.
type ProbeResult struct {
	StatusCode int
	// Bearer reports a 401 with a Bearer challenge; Challenge holds its
	// parameters (nil otherwise).
	Bearer    bool
	Challenge map[string]string
}

// Probe POSTs an unauthenticated MCP initialize to serverURL and reports the
// answer. The body is never read: a server may answer with an event stream
// that stays open, and the status and headers are all a probe needs.
// Errors are *Error (network errors and timeouts are Transient).
func Probe(ctx context.Context, c *http.Client, serverURL string) (ProbeResult, error) {
	return send(ctx, clientOrDefault(c), serverURL, initializeBody)
}

// send POSTs one unauthenticated MCP request and closes the response unread.
func send(ctx context.Context, c *http.Client, serverURL string, body []byte) (ProbeResult, error) {
	safe := redact.URL(serverURL)
	req, err := http.NewRequestWithContext(WithKind(ctx, KindMCP), http.MethodPost, serverURL, bytes.NewReader(body))
	if err != nil {
		return ProbeResult{}, &Error{Reason: ReasonDiscoveryFailed, URL: safe, Message: fmt.Sprintf("invalid MCP server URL %s", safe), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
	resp, err := c.Do(req)
	if err != nil {
		return ProbeResult{}, requestError(ReasonDiscoveryFailed, safe, "probing the MCP server at", err)
	}
	// The body may be an open event stream: never read it.
	_ = resp.Body.Close()
	p := ProbeResult{StatusCode: resp.StatusCode}
	if resp.StatusCode == http.StatusUnauthorized {
		p.Challenge, p.Bearer = BearerChallenge(resp)
	}
	return p, nil
}
