package mcpserver

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

const (
	probeTimeout          = 20 * time.Second
	defaultResyncInterval = 10 * time.Minute
	maxStatusTools        = 256
)

// reconcileReachability owns the Reachable condition and status.server and
// status.tools: it connects to the server as an MCP client with the resolved
// credentials. OAuth2 servers need a user's token, so for them an
// unauthenticated 401 with a bearer challenge is the healthy answer.
func (r *Reconciler) reconcileReachability(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	if !server.IsEnabled() {
		setCondition(server, mcpv1.ConditionReachable, metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped,
			"The server is disabled, so it is not probed")
		return ctrl.Result{}, nil
	}
	if !meta.IsStatusConditionTrue(server.Status.Conditions, mcpv1.ConditionAuthConfigured) {
		setCondition(server, mcpv1.ConditionReachable, metav1.ConditionUnknown, mcpv1.ReasonProbeSkipped,
			"Waiting for credentials (see AuthConfigured) before probing the server")
		return ctrl.Result{}, nil
	}

	ctx, cancel := context.WithTimeout(oauth.WithKind(ctx, oauth.KindMCP), probeTimeout)
	defer cancel()
	if server.Spec.Auth.Type == mcpv1.AuthTypeOAuth2 {
		r.probeChallenge(ctx, server)
	} else {
		r.probeSession(ctx, server, s.headers)
	}
	return ctrl.Result{RequeueAfter: jitter(r.resyncInterval())}, nil
}

// probeSession initializes an MCP session and lists the server's tools.
func (r *Reconciler) probeSession(ctx context.Context, server *mcpv1.MCPServer, headers http.Header) {
	hc := *r.HTTPClient
	hc.Transport = headerTransport{headers: headers, next: transportOf(r.HTTPClient)}
	var transport mcp.Transport = &mcp.StreamableClientTransport{
		Endpoint: server.Spec.URL, HTTPClient: &hc, MaxRetries: -1, DisableStandaloneSSE: true,
	}
	if server.Spec.Transport == mcpv1.TransportSSE {
		transport = &mcp.SSEClientTransport{Endpoint: server.Spec.URL, HTTPClient: &hc}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-operator", Version: "v1alpha1"}, nil)
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		r.unreachable(server, err)
		return
	}
	defer func() { _ = session.Close() }()

	var tools []string
	for tool, err := range session.Tools(ctx, nil) {
		if err != nil {
			r.unreachable(server, err)
			return
		}
		tools = append(tools, tool.Name)
	}
	init := session.InitializeResult()
	if init != nil && init.ServerInfo != nil {
		server.Status.Server = &mcpv1.ServerInfo{
			Name:            truncate(init.ServerInfo.Name, 256),
			Version:         truncate(init.ServerInfo.Version, 256),
			ProtocolVersion: truncate(init.ProtocolVersion, 64),
		}
	}
	server.Status.Tools = filterTools(tools, server.Spec.Tools)
	setCondition(server, mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonConnected,
		fmt.Sprintf("Initialized an MCP session and listed %d tool(s)", len(tools)))
}

// probeChallenge sends an unauthenticated initialize and expects the 401
// bearer challenge of a server that needs per-user authorization.
func (r *Reconciler) probeChallenge(ctx context.Context, server *mcpv1.MCPServer) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-operator","version":"v1alpha1"}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.Spec.URL, strings.NewReader(body))
	if err != nil {
		r.unreachable(server, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := r.HTTPClient.Do(req)
	if err != nil {
		r.unreachable(server, err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()

	challenge := resp.Header.Get("WWW-Authenticate")
	switch {
	case resp.StatusCode == http.StatusUnauthorized && strings.HasPrefix(strings.ToLower(challenge), "bearer"):
		setCondition(server, mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonAuthorizationRequired,
			"The server answered with a bearer challenge: each user connects their own account")
	case resp.StatusCode < 300:
		setCondition(server, mcpv1.ConditionReachable, metav1.ConditionTrue, mcpv1.ReasonConnected,
			"The server answered without asking for authorization")
	default:
		setCondition(server, mcpv1.ConditionReachable, metav1.ConditionFalse, mcpv1.ReasonUnreachable,
			fmt.Sprintf("%s answered HTTP %d to an MCP initialize request: check spec.url", redactURL(server.Spec.URL), resp.StatusCode))
	}
}

func (r *Reconciler) unreachable(server *mcpv1.MCPServer, err error) {
	setCondition(server, mcpv1.ConditionReachable, metav1.ConditionFalse, mcpv1.ReasonUnreachable,
		fmt.Sprintf("Could not talk MCP to %s: %s. Check spec.url, spec.transport and the credentials",
			redactURL(server.Spec.URL), truncate(err.Error(), 300)))
}

func (r *Reconciler) resyncInterval() time.Duration {
	if r.ResyncInterval > 0 {
		return r.ResyncInterval
	}
	return defaultResyncInterval
}

// filterTools applies allow and deny (deny wins) and bounds the result.
func filterTools(names []string, filter *mcpv1.ToolFilter) []string {
	var out []string
	for _, n := range names {
		if filter != nil {
			if len(filter.Allow) > 0 && !slices.Contains(filter.Allow, n) {
				continue
			}
			if slices.Contains(filter.Deny, n) {
				continue
			}
		}
		if len(out) == maxStatusTools {
			break
		}
		out = append(out, truncate(n, 128))
	}
	return out
}

// jitter spreads periodic work by up to +10%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// headerTransport adds the server's static credentials to every request.
type headerTransport struct {
	headers http.Header
	next    http.RoundTripper
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.headers {
		req.Header[k] = v
	}
	return t.next.RoundTrip(req)
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}
