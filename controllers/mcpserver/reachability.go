package mcpserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/version"
)

// probeTimeout bounds one reachability probe.
const probeTimeout = 20 * time.Second

// DefaultResyncInterval is how often a server is probed again when nothing
// changed (the manager's --resync-interval default).
const DefaultResyncInterval = 10 * time.Minute

// reconcileReachability owns the Reachable condition and status.server and
// status.tools: it connects to the server as an MCP client with the resolved
// credentials. OAuth2 servers need a user's token, so for them an
// unauthenticated 401 with a bearer challenge is the healthy answer.
func (r *Reconciler) reconcileReachability(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	if !server.IsEnabled() {
		s.learned.reachable = unknownf(mcpv1.ReasonProbeSkipped, "The server is disabled, so it is not probed")
		return ctrl.Result{}, nil
	}
	if s.learned.auth == nil || s.learned.auth.status != metav1.ConditionTrue {
		s.learned.reachable = unknownf(mcpv1.ReasonProbeSkipped, "Waiting for credentials (see AuthConfigured) before probing the server")
		return ctrl.Result{}, nil
	}

	if wait := r.hosts.wait(server.Spec.URL, r.now()); wait > 0 && !reconcileRequested(server) {
		s.learned.reachable = falsef(mcpv1.ReasonUnreachable, "%s failed recently; the operator tries it again in %s",
			redact.URL(server.Spec.URL), wait.Round(time.Second))
		return ctrl.Result{RequeueAfter: wait}, nil
	}

	ctx, cancel := context.WithTimeout(oauth.WithKind(ctx, oauth.KindMCP), probeTimeout)
	defer cancel()
	// hostDown: the host failed at the network level or answered 5xx, so
	// every server on it waits (hostBackoff) before it is tried again.
	var hostDown bool
	if server.Spec.Auth.Type == mcpv1.AuthTypeOAuth2 {
		answer, err := oauth.Probe(ctx, s.http, server.Spec.URL)
		s.learned.reachable = challengeFinding(server.Spec.URL, answer, err)
		hostDown = oauth.IsTransient(err) || answer.StatusCode >= http.StatusInternalServerError
	} else {
		var err error
		s.learned.reachable, err = r.probeSession(ctx, s)
		hostDown = oauth.IsTransient(err)
	}
	r.hosts.observe(server.Spec.URL, hostDown, r.now())
	return ctrl.Result{RequeueAfter: jitter(r.resyncInterval())}, nil
}

// probeSession initializes an MCP session, lists the server's tools and
// records them in status. The error is the transport failure, if any.
func (r *Reconciler) probeSession(ctx context.Context, s *serverScope) (*finding, error) {
	server := s.server
	hc := *s.http
	hc.Transport = credentialTransport{headers: s.headers, origin: originOf(server.Spec.URL), next: transportOf(s.http)}
	var transport mcp.Transport = &mcp.StreamableClientTransport{
		Endpoint: server.Spec.URL, HTTPClient: &hc, MaxRetries: -1, DisableStandaloneSSE: true,
	}
	if server.Spec.Transport == mcpv1.TransportSSE {
		transport = &mcp.SSEClientTransport{Endpoint: server.Spec.URL, HTTPClient: &hc}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: oauth.ClientName, Version: version.Get()}, nil)
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		return unreachable(server.Spec.URL, err), err
	}
	defer func() { _ = session.Close() }()

	tools := toolCollector{filter: server.Spec.Tools}
	if err := tools.list(ctx, session); err != nil {
		return unreachable(server.Spec.URL, err), err
	}
	init := session.InitializeResult()
	if init != nil && init.ServerInfo != nil {
		server.Status.Server = &mcpv1.ServerInfo{
			Name:            redact.Truncate(init.ServerInfo.Name, mcpv1.MaxServerInfoLength),
			Version:         redact.Truncate(init.ServerInfo.Version, mcpv1.MaxServerInfoLength),
			ProtocolVersion: redact.Truncate(init.ProtocolVersion, mcpv1.MaxProtocolVersionLength),
		}
	}
	server.Status.Tools = tools.names
	if tools.cut != "" {
		return truef(mcpv1.ReasonConnected, "Initialized an MCP session and listed %d tool(s); %s", tools.seen, tools.cut), nil
	}
	return truef(mcpv1.ReasonConnected, "Initialized an MCP session and listed %d tool(s)", tools.seen), nil
}

// challengeFinding judges an OAuth2 server's answer to the unauthenticated
// probe (oauth.Probe, of either MCP era): a bearer challenge is the healthy
// answer of a server that needs per-user authorization.
func challengeFinding(serverURL string, answer oauth.ProbeResult, err error) *finding {
	switch {
	case err != nil:
		return unreachable(serverURL, err)
	case answer.Bearer:
		return truef(mcpv1.ReasonAuthorizationRequired, "The server answered with a bearer challenge (MCP %s): each user connects their own account", answer.Era)
	case answer.StatusCode < 300:
		return truef(mcpv1.ReasonConnected, "The server answered without asking for authorization (MCP %s)", answer.Era)
	case answer.ModernError != 0:
		return falsef(mcpv1.ReasonUnreachable, "%s answered HTTP %d with MCP error %d to an unauthenticated MCP %s request: "+
			"check spec.url and any proxy in front of the server that rewrites MCP headers",
			redact.URL(serverURL), answer.StatusCode, answer.ModernError, answer.Era)
	default:
		return falsef(mcpv1.ReasonUnreachable, "%s answered HTTP %d to an unauthenticated MCP %s request: check spec.url",
			redact.URL(serverURL), answer.StatusCode, answer.Era)
	}
}

func unreachable(serverURL string, err error) *finding {
	return falsef(mcpv1.ReasonUnreachable, "Could not talk MCP to %s: %s. Check spec.url, spec.transport and the credentials",
		redact.URL(serverURL), redact.Truncate(redact.Error(err), 300))
}

func (r *Reconciler) resyncInterval() time.Duration {
	if r.ResyncInterval > 0 {
		return r.ResyncInterval
	}
	return DefaultResyncInterval
}

// maxToolPages bounds the tools/list pages one probe follows: a server that
// answers every page with a fresh cursor can hold neither a worker nor
// memory.
const maxToolPages = 16

// toolCollector keeps the tool names status reports while they are listed:
// allow and deny applied to the full name (deny wins), each name cut to the
// schema's length, at most mcpv1.MaxTools of them. Listing stops there, so
// nothing a server sends grows without bound.
type toolCollector struct {
	filter *mcpv1.ToolFilter
	names  []string
	seen   int    // tools the server listed until listing stopped
	cut    string // why listing stopped early; "" when it saw every page
}

// list follows tools/list pages until the last one or a bound.
func (c *toolCollector) list(ctx context.Context, session *mcp.ClientSession) error {
	params := &mcp.ListToolsParams{}
	for page := 1; ; page++ {
		res, err := session.ListTools(ctx, params)
		if err != nil {
			return err
		}
		for _, t := range res.Tools {
			if !c.add(t.Name) {
				c.cut = fmt.Sprintf("status shows the first %d", mcpv1.MaxTools)
				return nil
			}
		}
		if res.NextCursor == "" {
			return nil
		}
		if page == maxToolPages {
			c.cut = fmt.Sprintf("stopped after %d pages", maxToolPages)
			return nil
		}
		params.Cursor = res.NextCursor
	}
}

// add records one listed tool; false when status is full.
func (c *toolCollector) add(name string) bool {
	if len(c.names) == mcpv1.MaxTools {
		return false
	}
	c.seen++
	if f := c.filter; f != nil && ((len(f.Allow) > 0 && !slices.Contains(f.Allow, name)) || slices.Contains(f.Deny, name)) {
		return true
	}
	c.names = append(c.names, redact.Truncate(name, mcpv1.MaxToolNameLength))
	return true
}

// jitter spreads periodic work by up to +10%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1)) //nolint:gosec // G404: jitter spreads load; it needs no unpredictability
}

// credentialTransport adds the server's static credentials to requests for
// spec.url's origin only: it sits below http.Client, so it also sees every
// redirect hop, and a redirect to another host or scheme must not carry
// the API key there.
type credentialTransport struct {
	headers http.Header
	origin  string
	next    http.RoundTripper
}

func (t credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if originOf(req.URL.String()) == t.origin {
		req = req.Clone(req.Context())
		for k, v := range t.headers {
			req.Header[k] = v
		}
	}
	return t.next.RoundTrip(req)
}

// originOf is scheme://host[:port] of a URL, lower-cased; "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}
