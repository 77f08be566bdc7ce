package oauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
)

// eraServer answers a probe request by its era (the MCP-Protocol-Version
// header) and records the JSON-RPC methods it was sent.
type eraServer struct {
	modern, legacy func(w http.ResponseWriter, method string)
}

const challenge401 = `Bearer resource_metadata="https://mcp.example/prm"`

func unauthorized(w http.ResponseWriter, _ string) {
	w.Header().Set("WWW-Authenticate", challenge401)
	w.WriteHeader(http.StatusUnauthorized)
}

func rpcError(status int, body string) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, _ string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func plain(status int) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, _ string) { http.Error(w, "Bad Request: session ID required", status) }
}

// Each era's server, as a client of both eras sees it (MCP 2026-07-28,
// Streamable HTTP §Backward Compatibility): a modern refusal means stay
// modern, any other 400/404/405 means fall back to initialize.
func TestProbeDetectsTheServersEra(t *testing.T) {
	const (
		unsupportedModern = `{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"],"requested":"2025-11-25"}}}`
		unsupportedLegacy = `{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2025-11-25","2025-06-18"]}}}`
		headerMismatch    = `{"jsonrpc":"2.0","id":1,"error":{"code":-32020,"message":"Header mismatch"}}`
		methodNotFound    = `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}`
	)
	cases := []struct {
		name          string
		srv           eraServer
		wantMethods   []string
		wantEra       string
		wantStatus    int
		wantBearer    bool
		wantModernErr int64
	}{
		{"2026-only server refusing legacy requests", eraServer{modern: unauthorized, legacy: rpcError(400, unsupportedModern)},
			[]string{"server/discover"}, ModernProtocolVersion, 401, true, 0},
		{"legacy server without sessions for strangers", eraServer{modern: plain(400), legacy: unauthorized},
			[]string{"server/discover", "initialize"}, LegacyProtocolVersion, 401, true, 0},
		{"legacy server: method not found is no modern sign", eraServer{modern: rpcError(404, methodNotFound), legacy: unauthorized},
			[]string{"server/discover", "initialize"}, LegacyProtocolVersion, 401, true, 0},
		{"legacy server: 405 to the modern POST", eraServer{modern: plain(405), legacy: unauthorized},
			[]string{"server/discover", "initialize"}, LegacyProtocolVersion, 401, true, 0},
		{"dual-era server asking for the legacy handshake", eraServer{modern: rpcError(400, unsupportedLegacy), legacy: unauthorized},
			[]string{"server/discover", "initialize"}, LegacyProtocolVersion, 401, true, 0},
		{"modern server refusing the probe stays modern", eraServer{modern: rpcError(400, headerMismatch), legacy: unauthorized},
			[]string{"server/discover", "tools/list"}, ModernProtocolVersion, 400, false, -32020},
		{"legacy server that only errors", eraServer{modern: plain(400), legacy: plain(400)},
			[]string{"server/discover", "initialize", "tools/list"}, LegacyProtocolVersion, 400, false, 0},
		{"server down", eraServer{modern: plain(503), legacy: unauthorized},
			[]string{"server/discover"}, ModernProtocolVersion, 503, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			var methods []string
			f.handle("/mcp", func(w http.ResponseWriter, r *http.Request) {
				var msg struct {
					Method string `json:"method"`
					Params struct {
						Meta map[string]any `json:"_meta"`
					} `json:"params"`
				}
				_ = json.NewDecoder(r.Body).Decode(&msg)
				methods = append(methods, msg.Method)
				if r.Header.Get("MCP-Protocol-Version") == ModernProtocolVersion {
					if r.Header.Get("Mcp-Method") != msg.Method || msg.Params.Meta["io.modelcontextprotocol/protocolVersion"] != ModernProtocolVersion {
						t.Errorf("modern %s: Mcp-Method %q, _meta %v: want the headers to mirror the body", msg.Method, r.Header.Get("Mcp-Method"), msg.Params.Meta)
					}
					tc.srv.modern(w, msg.Method)
					return
				}
				tc.srv.legacy(w, msg.Method)
			})
			p, err := Probe(context.Background(), testClient(), f.URL()+"/mcp")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(methods, tc.wantMethods) {
				t.Errorf("methods sent %v, want %v", methods, tc.wantMethods)
			}
			if p.Era != tc.wantEra || p.StatusCode != tc.wantStatus || p.Bearer != tc.wantBearer || p.ModernError != tc.wantModernErr {
				t.Errorf("Probe = era %s, HTTP %d, bearer %v, modern error %d; want %s, %d, %v, %d",
					p.Era, p.StatusCode, p.Bearer, p.ModernError, tc.wantEra, tc.wantStatus, tc.wantBearer, tc.wantModernErr)
			}
			if tc.wantBearer && p.Challenge["resource_metadata"] != "https://mcp.example/prm" {
				t.Errorf("Challenge = %v", p.Challenge)
			}
		})
	}
}
