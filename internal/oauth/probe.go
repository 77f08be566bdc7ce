package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/version"
)

// The MCP protocol versions the operator's own probes speak. MCP 2026-07-28
// is the first "modern" version: every request names its version in _meta
// and in the MCP-Protocol-Version header, and there is no initialize. Servers
// of 2025-11-25 and before are "legacy": they expect an initialize first.
const (
	ModernProtocolVersion = "2026-07-28"
	LegacyProtocolVersion = "2025-11-25"
)

// ProtocolVersion is sent as MCP-Protocol-Version on authorization discovery
// requests (MCP 2025-03-26 §2.3.1); the 2026-07-28 discovery pages ask for
// no header there, so the legacy value stays.
const ProtocolVersion = LegacyProtocolVersion

// ClientName is the MCP client implementation name the operator sends in
// initialize and in _meta; its version is version.Get().
const ClientName = "mcp-operator"

// mcpRequest is one unauthenticated probe request of one era.
type mcpRequest struct {
	method string
	body   []byte
	era    string
}

func clientInfo() map[string]string {
	return map[string]string{"name": ClientName, "version": version.Get()}
}

// modernRequest is a 2026-07-28 request: its version, identity and
// capabilities travel in params._meta (versioning §Protocol Version
// Negotiation), mirrored by headers in send.
func modernRequest(id int, method string) mcpRequest {
	meta := map[string]any{
		mcp.MetaKeyProtocolVersion:    ModernProtocolVersion,
		mcp.MetaKeyClientInfo:         clientInfo(),
		mcp.MetaKeyClientCapabilities: map[string]any{},
	}
	return mcpRequest{method, rpcRequest(id, method, map[string]any{"_meta": meta}), ModernProtocolVersion}
}

// The probe sequences of each era: the era's opening request, then an
// operation every MCP server with tools protects, for servers that let the
// opening through without a token and challenge only operations.
var (
	modernProbes = []mcpRequest{modernRequest(1, "server/discover"), modernRequest(2, "tools/list")}
	legacyProbes = []mcpRequest{
		{"initialize", rpcRequest(1, "initialize", map[string]any{
			"protocolVersion": LegacyProtocolVersion,
			"capabilities":    map[string]any{},
			"clientInfo":      clientInfo(),
		}), LegacyProtocolVersion},
		{"tools/list", rpcRequest(2, "tools/list", map[string]any{}), LegacyProtocolVersion},
	}
)

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

// ProbeResult is how an MCP server answered the unauthenticated probe.
type ProbeResult struct {
	StatusCode int
	// Bearer reports a 401 with a Bearer challenge; Challenge holds its
	// parameters (nil otherwise).
	Bearer    bool
	Challenge map[string]string
	// Era is the protocol version of the request that got this answer:
	// ModernProtocolVersion, or LegacyProtocolVersion when the server did
	// not recognise a modern request.
	Era string
	// ModernError is the code of the 2026-07-28 JSON-RPC error the server
	// refused the request with (0 if none): the server speaks the modern
	// protocol even though it did not answer this request.
	ModernError int64
}

// Probe asks serverURL, without credentials, the way a client of both eras
// detects a server's (MCP 2026-07-28, Streamable HTTP §Backward
// Compatibility): a modern server/discover first; a 400, 404 or 405 whose
// body is not a modern JSON-RPC error means a legacy server, which is then
// sent a 2025-11-25 initialize. In each era a 401 ends the probe; any other
// answer to the opening request is followed by a tools/list so that a
// server protecting only operations still shows its challenge. The answer
// returned is the 401, else the era's opening answer.
// Errors are *Error (network errors and timeouts are Transient).
func Probe(ctx context.Context, c *http.Client, serverURL string) (ProbeResult, error) {
	c = clientOrDefault(c)
	first, err := probeEra(ctx, c, serverURL, modernProbes)
	if err != nil || first.Bearer || !isLegacyAnswer(first) {
		return first, err
	}
	return probeEra(ctx, c, serverURL, legacyProbes)
}

// probeEra sends one era's sequence and stops at the first 401, at a
// server error, or at an opening answer that says the server is of the
// other era.
func probeEra(ctx context.Context, c *http.Client, serverURL string, seq []mcpRequest) (ProbeResult, error) {
	opening, err := send(ctx, c, serverURL, seq[0])
	if err != nil || opening.StatusCode == http.StatusUnauthorized || opening.StatusCode >= http.StatusInternalServerError ||
		isLegacyAnswer(opening) {
		return opening, err
	}
	for _, req := range seq[1:] {
		p, err := send(ctx, c, serverURL, req)
		if err != nil || p.StatusCode == http.StatusUnauthorized {
			return p, err
		}
	}
	return opening, nil
}

// isLegacyAnswer: a refusal of a modern request that is not a modern
// JSON-RPC error identifies a server of 2025-11-25 or before.
func isLegacyAnswer(p ProbeResult) bool {
	switch p.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		return p.Era == ModernProtocolVersion && p.ModernError == 0
	}
	return false
}

// maxErrorBody bounds the JSON-RPC error body read from a refused probe.
const maxErrorBody = 64 << 10

// send POSTs one unauthenticated MCP request. A successful answer is closed
// unread (it may be an event stream that stays open); a refusal's JSON body
// is read, bounded, to tell a modern JSON-RPC error from anything else.
func send(ctx context.Context, c *http.Client, serverURL string, r mcpRequest) (ProbeResult, error) {
	safe := redact.URL(serverURL)
	req, err := http.NewRequestWithContext(WithKind(ctx, KindMCP), http.MethodPost, serverURL, bytes.NewReader(r.body))
	if err != nil {
		return ProbeResult{}, &Error{Reason: ReasonDiscoveryFailed, URL: safe, Message: fmt.Sprintf("invalid MCP server URL %s", safe), Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", r.era)
	if r.era == ModernProtocolVersion {
		req.Header.Set("Mcp-Method", r.method)
	}
	resp, err := c.Do(req)
	if err != nil {
		return ProbeResult{}, requestError(ReasonDiscoveryFailed, safe, "probing the MCP server at", err)
	}
	defer func() { _ = resp.Body.Close() }()
	p := ProbeResult{StatusCode: resp.StatusCode, Era: r.era}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		p.Challenge, p.Bearer = BearerChallenge(resp)
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		if r.era == ModernProtocolVersion {
			p.ModernError = modernError(resp)
		}
	}
	return p, nil
}

// modernError returns the code of the JSON-RPC error in resp if it is one
// only a 2026-07-28 server sends: HeaderMismatch, a missing required client
// capability, or UnsupportedProtocolVersion naming a modern version. An
// UnsupportedProtocolVersion that lists only legacy versions asks for the
// legacy handshake, and method not found is no sign either: every modern
// server implements server/discover. 0 means not a modern error.
func modernError(resp *http.Response) int64 {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return 0
	}
	var msg struct {
		Error *struct {
			Code int64 `json:"code"`
			Data struct {
				Supported []string `json:"supported"`
			} `json:"data"`
		} `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&msg) != nil || msg.Error == nil {
		return 0
	}
	switch msg.Error.Code {
	case mcp.CodeHeaderMismatch, mcp.CodeMissingRequiredClientCapabilities:
		return msg.Error.Code
	case mcp.CodeUnsupportedProtocolVersion:
		// Versions are dates, so they compare as strings.
		if slices.ContainsFunc(msg.Error.Data.Supported, func(v string) bool { return v >= ModernProtocolVersion }) {
			return msg.Error.Code
		}
	}
	return 0
}
