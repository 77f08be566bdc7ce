package harness

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/credentialsecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// ToolCall is the result of one tool call made as a chat pod makes it.
type ToolCall struct {
	Tools []string // tools/list
	Text  string   // the tool's text content
}

// ChatPodCall does what a chat backend does for user: read the MCPServer,
// find the credentials for its auth type (for OAuth2 the user's token through
// pkg/mcpauth, never refreshing), connect with the go-sdk client, list the
// tools and call tool with args.
func ChatPodCall(ctx context.Context, reader client.Reader, namespace, server, user, tool string, args map[string]any) (*ToolCall, error) {
	s := &mcpv1.MCPServer{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: server}, s); err != nil {
		return nil, fmt.Errorf("reading MCPServer %s/%s: %w", namespace, server, err)
	}
	headers, err := credentials(ctx, reader, s, user)
	if err != nil {
		return nil, err
	}
	return CallTool(ctx, s.Spec.URL, headers, tool, args)
}

// ChatPodCallThroughEndpoint does what a chat backend with no Kubernetes
// credentials does for user: find server on the callback sidecar's token
// listener (GET /servers), get the user's access token there (GET /token),
// and call tool with it. Only OAuth2 servers: static credentials come from
// Secrets the pod mounts, which this harness has none of.
func ChatPodCallThroughEndpoint(ctx context.Context, ep mcpauth.TokenEndpoint, namespace, server, user, tool string, args map[string]any) (*ToolCall, error) {
	servers, err := ep.Servers(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("listing MCP servers: %w", err)
	}
	i := slices.IndexFunc(servers, func(s mcpauth.ServerInfo) bool { return s.Namespace == namespace && s.Name == server })
	if i < 0 {
		return nil, fmt.Errorf("MCP server %s/%s: %w", namespace, server, mcpauth.ErrUnknownServer)
	}
	tok, err := ep.Token(ctx, namespace, server, user)
	if err != nil {
		return nil, err
	}
	if tok.Resource != "" && tok.Resource != servers[i].URL {
		return nil, fmt.Errorf("the token for %s/%s is for %s, not the server's URL %s", namespace, server, tok.Resource, servers[i].URL)
	}
	return CallTool(ctx, servers[i].URL, http.Header{"Authorization": {tok.AuthorizationHeader()}}, tool, args)
}

// credentials are the request headers for s on behalf of user.
func credentials(ctx context.Context, reader client.Reader, s *mcpv1.MCPServer, user string) (http.Header, error) {
	h := http.Header{}
	switch s.Spec.Auth.Type {
	case mcpv1.AuthTypeOAuth2:
		tok, err := mcpauth.GetToken(ctx, reader, s.Namespace, s.Name, user)
		if err != nil {
			return nil, err
		}
		h.Set("Authorization", tok.AuthorizationHeader())
	case mcpv1.AuthTypeAPIKey:
		ref := s.Spec.Auth.APIKey.SecretKeyRef
		sec := &corev1.Secret{}
		if err := reader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: ref.Name}, sec); err != nil {
			return nil, fmt.Errorf("reading API key Secret %s/%s: %w", s.Namespace, ref.Name, err)
		}
		// A chat pod holds the Secret to the operator's rule: it too sends
		// it to a URL the MCPServer's author chose.
		if _, problem := credentialsecret.Refusal(sec); problem != "" {
			return nil, fmt.Errorf("API key Secret %s/%s %s", s.Namespace, ref.Name, problem)
		}
		h.Set(s.Spec.Auth.APIKey.Header, string(sec.Data[ref.Key]))
	}
	return h, nil
}

// CallTool connects to the streamable HTTP MCP endpoint url with headers,
// lists its tools and calls tool.
func CallTool(ctx context.Context, url string, headers http.Header, tool string, args map[string]any) (*ToolCall, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tr := &mcp.StreamableClientTransport{
		Endpoint:             url,
		HTTPClient:           &http.Client{Transport: headerTransport{headers}},
		DisableStandaloneSSE: true,
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "mcp-operator-demo-chat", Version: "1"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	defer cs.Close()
	out := &ToolCall{}
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing tools of %s: %w", url, err)
	}
	for _, t := range list.Tools {
		out.Tools = append(out.Tools, t.Name)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return out, fmt.Errorf("calling %s on %s: %w", tool, url, err)
	}
	var texts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			texts = append(texts, t.Text)
		}
	}
	out.Text = strings.Join(texts, "\n")
	if res.IsError {
		return out, fmt.Errorf("tool %s on %s failed: %s", tool, url, out.Text)
	}
	return out, nil
}

// headerTransport adds fixed headers to every request.
type headerTransport struct{ h http.Header }

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.h {
		req.Header[k] = v
	}
	return http.DefaultTransport.RoundTrip(req)
}
