package fakeauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tools the MCP server exposes.
const (
	ToolTest  = "test-tool"  // no arguments; answers "ok"
	ToolEcho  = "echo"       // echoes its message argument
	ToolAdmin = "admin-tool" // needs Options.StepUpScope (403 insufficient_scope)
)

// ServerName is the MCP server's implementation name.
const ServerName = "fakeauth-mcp"

type echoArgs struct {
	Message string `json:"message" jsonschema:"the text to echo back"`
}

// mcpHandler is the MCP endpoint: a go-sdk streamable HTTP server behind
// bearer token checks that answer with RFC 6750 / RFC 9728 challenges.
func (s *Server) mcpHandler() http.Handler {
	var serverOpts *mcp.ServerOptions
	var handlerOpts *mcp.StreamableHTTPOptions
	if s.opts.ModernOnly {
		// The SDK serves 2026-07-28 only statelessly (it has no sessions).
		serverOpts = &mcp.ServerOptions{SupportedProtocolVersions: []string{modernVersion}}
		handlerOpts = &mcp.StreamableHTTPOptions{Stateless: true}
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: ServerName, Version: "1.0.0"}, serverOpts)
	mcp.AddTool(srv, &mcp.Tool{Name: ToolTest, Description: "A tool for tests; answers ok."}, s.testTool)
	mcp.AddTool(srv, &mcp.Tool{Name: ToolEcho, Description: "Echoes the message back."}, s.echoTool)
	mcp.AddTool(srv, &mcp.Tool{Name: ToolAdmin, Description: "Needs the step-up scope."}, s.adminTool)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, handlerOpts)
	// The SDK middleware attaches TokenInfo (user binding of sessions, tool
	// access to scopes); the checks that shape the challenge are ours.
	inner := auth.RequireBearerToken(s.verifyForSDK, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.ModernOnly && r.Header.Get("MCP-Protocol-Version") != modernVersion {
			s.refuseLegacy(w, r)
			return
		}
		tok, ok := bearerToken(r)
		if !ok {
			s.challenge(w, http.StatusUnauthorized, "")
			return
		}
		t, g, ok := s.accessTokenInfo(tok)
		if !ok || !s.namesMCPServer(g.resource) {
			s.challenge(w, http.StatusUnauthorized, "invalid_token")
			return
		}
		if s.needsStepUp(r, t.scope) {
			s.challenge(w, http.StatusForbidden, "insufficient_scope")
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// modernVersion is the only MCP version a ModernOnly server speaks.
const modernVersion = "2026-07-28"

// refuseLegacy answers a request of another MCP version the way a 2026-07-28
// server without legacy support does: 400 with UnsupportedProtocolVersion
// naming the versions it supports.
func (s *Server) refuseLegacy(w http.ResponseWriter, r *http.Request) {
	s.bump(func(c *Counters) { c.MCPLegacyRefused++ })
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error": map[string]any{
			"code":    mcp.CodeUnsupportedProtocolVersion,
			"message": "Unsupported protocol version",
			"data":    map[string]any{"supported": []string{modernVersion}, "requested": r.Header.Get("MCP-Protocol-Version")},
		},
	})
}

func (s *Server) verifyForSDK(_ context.Context, tok string, _ *http.Request) (*auth.TokenInfo, error) {
	t, g, ok := s.accessTokenInfo(tok)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	return &auth.TokenInfo{
		Scopes: strings.Fields(t.scope),
		UserID: g.subject,
		Extra:  map[string]any{"client_id": g.clientID},
	}, nil
}

// bearerToken extracts an RFC 6750 §2.1 bearer token; query tokens are ignored.
func bearerToken(r *http.Request) (string, bool) {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) != 2 || !strings.EqualFold(f[0], "Bearer") {
		return "", false
	}
	return f[1], true
}

// needsStepUp reports whether r calls the admin tool without the step-up scope.
func (s *Server) needsStepUp(r *http.Request, scope string) bool {
	if r.Method != http.MethodPost || slices.Contains(strings.Fields(scope), s.opts.StepUpScope) {
		return false
	}
	buf, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	return json.Unmarshal(buf, &msg) == nil && msg.Method == "tools/call" && msg.Params.Name == ToolAdmin
}

// challenge answers 401 or 403 with a WWW-Authenticate header shaped by the
// PRM mode (MCP 2025-11-25 §authorization, RFC 9728 §5.1, RFC 6750 §3).
func (s *Server) challenge(w http.ResponseWriter, status int, errCode string) {
	var params []string
	if errCode != "" {
		params = append(params, fmt.Sprintf("error=%q", errCode))
	}
	if s.opts.PRM != PRMNone {
		if u := s.challengePRMURL(); u != "" {
			params = append(params, fmt.Sprintf("resource_metadata=%q", u))
		}
		scope := strings.Join(s.opts.Scopes, " ")
		if status == http.StatusForbidden {
			scope = s.opts.StepUpScope
		}
		if scope != "" {
			params = append(params, fmt.Sprintf("scope=%q", scope))
		}
	}
	v := "Bearer"
	if len(params) > 0 {
		v += " " + strings.Join(params, ", ")
	}
	w.Header().Set("WWW-Authenticate", v)
	s.bump(func(c *Counters) {
		if status == http.StatusForbidden {
			c.MCPForbidden++
		} else {
			c.MCPUnauthorized++
		}
	})
	body := map[string]string{"error": errCode}
	if errCode == "" {
		body["error"] = "unauthorized"
	}
	writeJSON(w, status, body)
}

func (s *Server) toolCalled() { s.bump(func(c *Counters) { c.ToolCalls++ }) }

func text(format string, args ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
}

func userOf(req *mcp.CallToolRequest) string {
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		return req.Extra.TokenInfo.UserID
	}
	return ""
}

func (s *Server) testTool(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
	s.toolCalled()
	return text("ok (user %s)", userOf(req)), nil, nil
}

func (s *Server) echoTool(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
	s.toolCalled()
	return text("%s", in.Message), nil, nil
}

func (s *Server) adminTool(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
	s.toolCalled()
	if req.Extra == nil || req.Extra.TokenInfo == nil || !slices.Contains(req.Extra.TokenInfo.Scopes, s.opts.StepUpScope) {
		res := text("scope %s required", s.opts.StepUpScope)
		res.IsError = true
		return res, nil, nil
	}
	return text("admin ok (user %s)", userOf(req)), nil, nil
}
