package oidcprovider

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ToolWhoAmI answers the subject of the caller's access token.
const ToolWhoAmI = "whoami"

// requiredScope is what every tool call needs.
const requiredScope = "mcp:read"

// ResourceServer is an MCP server that accepts the provider's JWT access
// tokens (RFC 9068): signed with its key, its issuer, this server as the
// audience, unexpired, with mcp:read. It publishes RFC 9728 metadata naming
// the provider and answers 401 with a challenge that points there.
type ResourceServer struct {
	// MCPURL is the MCP endpoint, which is also the RFC 8707 resource.
	MCPURL string

	issuer   string
	key      *ecdsa.PublicKey
	scopes   []string
	srv      *http.Server
	accepted atomic.Int64
	rejected atomic.Int64
}

type claims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
}

func serveResource(issuer string, key *ecdsa.PublicKey, scopes []string) (*ResourceServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("MCP server: listening: %w", err)
	}
	base := "http://" + ln.Addr().String()
	rs := &ResourceServer{MCPURL: base + "/mcp", issuer: issuer, key: key, scopes: scopes}

	server := mcp.NewServer(&mcp.Implementation{Name: "oidc-provider-protected", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: ToolWhoAmI, Description: "Answers the caller's subject."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Extra.TokenInfo.UserID}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	prmURL := base + "/.well-known/oauth-protected-resource/mcp"
	guarded := auth.RequireBearerToken(rs.verify, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: prmURL, Scopes: []string{requiredScope},
	})(h)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"resource": rs.MCPURL, "authorization_servers": []string{issuer},
			"scopes_supported": scopes, "bearer_methods_supported": []string{"header"},
		})
	})
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := rs.verify(r.Context(), bearer(r), r); err != nil {
			rs.rejected.Add(1)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", resource_metadata=%q, scope=%q`,
				prmURL, strings.Join(scopes, " ")))
			http.Error(w, "a valid access token from "+issuer+" is required", http.StatusUnauthorized)
			return
		}
		rs.accepted.Add(1)
		guarded.ServeHTTP(w, r)
	}))
	rs.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rs.srv.Serve(ln) }()
	return rs, nil
}

// verify checks an access token as RFC 9068 §4 says a resource server must.
func (rs *ResourceServer) verify(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	if token == "" {
		return nil, auth.ErrInvalidToken
	}
	var c claims
	parsed, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return rs.key, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(rs.issuer), jwt.WithAudience(rs.MCPURL),
		jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	}
	if typ, _ := parsed.Header["typ"].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", auth.ErrInvalidToken, typ)
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, requiredScope) {
		return nil, fmt.Errorf("%w: scope %q lacks %s", auth.ErrInvalidToken, c.Scope, requiredScope)
	}
	return &auth.TokenInfo{Scopes: scopes, UserID: c.Subject, Expiration: c.ExpiresAt.Time,
		Extra: map[string]any{"client_id": c.ClientID}}, nil
}

func bearer(r *http.Request) string {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) != 2 || !strings.EqualFold(f[0], "Bearer") {
		return ""
	}
	return f[1]
}

// Accepted counts MCP requests whose access token was valid.
func (rs *ResourceServer) Accepted() int64 { return rs.accepted.Load() }

// Rejected counts MCP requests turned away for their access token.
func (rs *ResourceServer) Rejected() int64 { return rs.rejected.Load() }

// VerifyAccessToken reports why token would be refused, nil if accepted.
func (rs *ResourceServer) VerifyAccessToken(token string) error {
	_, err := rs.verify(context.Background(), token, nil)
	return err
}

// Close stops the MCP server.
func (rs *ResourceServer) Close() {
	if rs == nil || rs.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rs.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = rs.srv.Close()
	}
}
