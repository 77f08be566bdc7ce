package bench

import (
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

const (
	// connectRounds is how many timed connects each P6 user makes, each to
	// another server, after one untimed warm-up connect (keep-alive
	// connections, the callback server's single-use ConfigMaps).
	connectRounds = 4
	// p6UserPrefix starts the names of P6's users.
	p6UserPrefix = "p6-user-"
	// userHeader is the trusted header of the authenticating proxy the
	// users come through (the callback server's --user-header).
	userHeader = "X-Forwarded-User"
)

// connectTiming is how long one user's connect took: the whole connect
// (link → confirmation page → button → authorization server → callback →
// token Secret written) and its callback round trip (authorization request
// → callback → token Secret written).
type connectTiming struct{ connect, roundTrip time.Duration }

// runP6 has cfg.ConnectUsers users connect at once to the servers in ns
// through the callback server binary, then through a bare net/http handler
// doing the same code exchange and token Secret write (the floor), driven
// by the same browser-free user agent.
func (r *rig) runP6(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	servers := r.listServers(ctx, t, ns)
	r.startCallback(ctx, t, ns)
	users := r.cfg.ConnectUsers
	progress("P6: %d users connecting %d times each through the callback server", users, connectRounds)
	got, err := r.connectAll(ctx, r.managerOpts.CallbackURL, ns, servers)
	must(t, err)
	r.checkConnected(ctx, t, ns, servers)

	floor := r.newFloorCallback(t, servers)
	defer floor.Close()
	progress("P6: %d users connecting %d times each through a bare handler", users, connectRounds)
	want, err := r.connectAll(ctx, floor.URL, ns, servers)
	must(t, err)
	r.checkConnected(ctx, t, floorNamespace, servers)

	n := len(got)
	for _, m := range []struct {
		name string
		of   func(connectTiming) time.Duration
	}{
		{"connect (link → confirm → authorize → callback → Secret)", func(c connectTiming) time.Duration { return c.connect }},
		{"callback round trip (authorize → callback → Secret)", func(c connectTiming) time.Duration { return c.roundTrip }},
	} {
		for _, p := range []struct {
			name string
			q    float64
			goal string
		}{{"p50", 0.50, ""}, {"p99", 0.99, "≤ 2×"}} {
			r.report.Add(Figure{ID: "P6", Name: fmt.Sprintf("%s %s, %d users, %d connects", m.name, p.name, users, n), Unit: "ms",
				Value: ms(percentile(got, m.of, p.q)), Floor: ms(percentile(want, m.of, p.q)), Goal: p.goal})
		}
	}
}

// checkConnected fails the test unless every connect of connectAll left its
// token Secret in ns: a 200 that stored nothing is no connect.
func (r *rig) checkConnected(ctx context.Context, t *testing.T, ns string, servers []mcpv1.MCPServer) {
	t.Helper()
	want := r.cfg.ConnectUsers * min(connectRounds+1, len(servers))
	got, err := r.countConnected(ctx, ns)
	must(t, err)
	if got != want {
		t.Errorf("P6: %d token Secrets of connected users in %s, want %d", got, ns, want)
	}
}

// startCallback runs the callback server binary for ns at the callback URL
// the manager registered its clients with, trusting userHeader.
func (r *rig) startCallback(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	u, err := url.Parse(r.managerOpts.CallbackURL)
	must(t, err)
	p, err := harness.StartCallback(ctx, harness.CallbackOptions{Bin: r.bins.Callback, LogDir: r.logDir(),
		Kubeconfig: r.kubeconfig, Namespace: ns, Listen: u.Host, PublicURL: r.managerOpts.CallbackURL,
		UserHeader: userHeader, CookieKeyFile: filepath.Join(r.dir, "cookie.key")})
	must(t, err)
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })
}

// connectAll has cfg.ConnectUsers users connect at once through the
// callback server at base: each connects once untimed, and when all have,
// connectRounds times, each time to another of servers.
func (r *rig) connectAll(ctx context.Context, base, ns string, servers []mcpv1.MCPServer) ([]connectTiming, error) {
	users := r.cfg.ConnectUsers
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * users
	defer tr.CloseIdleConnections()
	agents := make([]*userAgent, users)
	for u := range agents {
		agents[u] = newUserAgent(tr, base, fmt.Sprintf("%s%d", p6UserPrefix, u))
	}
	server := func(u, k int) string { return servers[(u*(connectRounds+1)+k)%len(servers)].Name }
	err := forEach(ctx, users, users, func(u int) error {
		_, err := agents[u].connect(ctx, ns, server(u, 0))
		return err
	})
	if err != nil {
		return nil, err
	}
	timings := make([]connectTiming, users*connectRounds)
	err = forEach(ctx, users, users, func(u int) error {
		for k := range connectRounds {
			tm, err := agents[u].connect(ctx, ns, server(u, k+1))
			if err != nil {
				return err
			}
			timings[u*connectRounds+k] = tm
		}
		return nil
	})
	return timings, err
}

// countConnected counts the token Secrets of P6's users in ns, one for each
// user and server connected.
func (r *rig) countConnected(ctx context.Context, ns string) (int, error) {
	var list corev1.SecretList
	if err := r.setup.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		if strings.HasPrefix(tokensecret.Read(&list.Items[i]).User, p6UserPrefix) {
			n++
		}
	}
	return n, nil
}

// userAgent is a browser-free user: a cookie jar, redirects taken one at a
// time so each hop can be timed, and the proxy's user header on requests to
// the callback origin.
type userAgent struct {
	hc         *http.Client
	base, user string
}

func newUserAgent(tr http.RoundTripper, base, user string) *userAgent {
	jar, _ := cookiejar.New(nil)
	return &userAgent{base: strings.TrimSuffix(base, "/"), user: user, hc: &http.Client{
		Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// connect opens the connect link of namespace/name, presses the
// confirmation page's button, and follows the redirect to the authorization
// server (which auto-approves) and from there to the callback, which
// answers 200 once the token Secret is written.
func (a *userAgent) connect(ctx context.Context, namespace, name string) (connectTiming, error) {
	start := time.Now()
	page, _, err := a.step(ctx, http.MethodGet, mcpauth.ConnectURL(a.base, namespace, name), nil)
	if err != nil {
		return connectTiming{}, err
	}
	action, fields, ok := harness.ConfirmForm(page)
	if !ok {
		return connectTiming{}, fmt.Errorf("%s connecting to %s/%s: the connect page asks for no confirmation", a.user, namespace, name)
	}
	_, authorize, err := a.step(ctx, http.MethodPost, action, fields)
	if err != nil {
		return connectTiming{}, err
	}
	roundTrip := time.Now()
	_, callback, err := a.step(ctx, http.MethodGet, authorize, nil)
	if err != nil {
		return connectTiming{}, err
	}
	if _, _, err := a.step(ctx, http.MethodGet, callback, nil); err != nil {
		return connectTiming{}, err
	}
	end := time.Now()
	return connectTiming{connect: end.Sub(start), roundTrip: end.Sub(roundTrip)}, nil
}

// step sends one request and expects 200 (page is its body) or a redirect
// (location is where to). Errors name the URL without its query, which
// carries states and codes, and quote only error pages.
func (a *userAgent) step(ctx context.Context, method, target string, form url.Values) (page, location string, err error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", "", fmt.Errorf("%s: %s", a.user, redact.Error(err))
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if strings.HasPrefix(target, a.base+"/") {
		req.Header.Set(userHeader, a.user)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%s: %s %s: %s", a.user, method, harness.Redact(req.URL), redact.Error(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		return string(data), "", nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc, err := resp.Location()
		if err != nil {
			return "", "", fmt.Errorf("%s: %s %s answered %d without a Location", a.user, method, harness.Redact(req.URL), resp.StatusCode)
		}
		return "", loc.String(), nil
	case resp.StatusCode >= 400:
		return "", "", fmt.Errorf("%s: %s %s answered %d: %.300s", a.user, method, harness.Redact(req.URL), resp.StatusCode, data)
	default:
		return "", "", fmt.Errorf("%s: %s %s answered %d", a.user, method, harness.Redact(req.URL), resp.StatusCode)
	}
}

// floorCallback is P6's floor: the least a callback can do. Its connect
// page and confirmation read nothing from the API; its callback redeems the
// code at the fake's token endpoint and creates the token Secret (in
// floorNamespace), with a client without client-side rate limits, as the
// callback server's (controller-runtime's default) is.
type floorCallback struct {
	*httptest.Server
	r       *rig
	cfg     oauth.FlowConfig // the floor's own client, redirect URI and endpoints
	servers map[string]*mcpv1.MCPServer
	kube    client.Client
	hc      *http.Client

	mu    sync.Mutex
	flows map[string]floorFlow // by state
}

type floorFlow struct {
	user, verifier string
	server         *mcpv1.MCPServer
}

func (r *rig) newFloorCallback(t *testing.T, servers []mcpv1.MCPServer) *floorCallback {
	t.Helper()
	f := &floorCallback{r: r, servers: map[string]*mcpv1.MCPServer{}, flows: map[string]floorFlow{},
		kube: newClient(t, r.restCfg, -1, 0)}
	for i := range servers {
		srv := servers[i].DeepCopy()
		srv.Namespace = floorNamespace // the manager does not watch it
		f.servers[srv.Name] = srv
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = r.cfg.ConnectUsers
	f.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+mcpauth.ConnectPattern, f.connectPage)
	mux.HandleFunc("POST "+mcpauth.ConnectPattern, f.confirm)
	mux.HandleFunc("GET /callback", f.callback)
	f.Server = httptest.NewServer(mux) // 127.0.0.1
	ep := r.fake.Endpoints()
	cl := r.fake.AddClient(fakeauth.Client{ID: "floor-connect", AuthMethod: fakeauth.AuthBasic, RedirectURIs: []string{f.URL + "/callback"}})
	f.cfg = oauth.FlowConfig{Client: oauth.Client{ClientID: cl.ID}, RedirectURI: f.URL + "/callback", Resource: r.fake.MCPURL(),
		Endpoint: oauth.Endpoint{Issuer: ep.Issuer, AuthorizationEndpoint: ep.Authorization, TokenEndpoint: ep.Token}}
	t.Cleanup(tr.CloseIdleConnections)
	return f
}

func (f *floorCallback) connectPage(w http.ResponseWriter, req *http.Request) {
	srv, ok := f.servers[req.PathValue("name")]
	if !ok {
		http.NotFound(w, req)
		return
	}
	state := oauth.NewState()
	f.mu.Lock()
	f.flows[state] = floorFlow{user: req.Header.Get(userHeader), verifier: oauth.NewVerifier(), server: srv}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<form method="post" action="%s"><input type="hidden" name="confirm" value="%s"><button>Connect</button></form>`,
		html.EscapeString(f.URL+req.URL.Path), html.EscapeString(state))
}

func (f *floorCallback) confirm(w http.ResponseWriter, req *http.Request) {
	state := req.PostFormValue("confirm")
	f.mu.Lock()
	fl, ok := f.flows[state]
	f.mu.Unlock()
	if !ok || fl.user != req.Header.Get(userHeader) {
		http.Error(w, "no such sign-in", http.StatusBadRequest)
		return
	}
	//nolint:gosec // G710: the floor's redirect goes to the fake authorization server the test configured
	http.Redirect(w, req, oauth.AuthCodeURL(f.cfg, state, fl.verifier), http.StatusSeeOther)
}

func (f *floorCallback) callback(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f.mu.Lock()
	fl, ok := f.flows[q.Get("state")]
	delete(f.flows, q.Get("state"))
	f.mu.Unlock()
	if !ok || fl.user != req.Header.Get(userHeader) {
		http.Error(w, "no such sign-in", http.StatusBadRequest)
		return
	}
	ctx := req.Context()
	tok, err := f.r.tokenRequest(ctx, f.hc, f.cfg.Client.ClientID, url.Values{"grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {f.cfg.RedirectURI}, "code_verifier": {fl.verifier}, "resource": {f.cfg.Resource}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway) // an OAuth error, no token in it
		return
	}
	g := fixture.FakeGrant(f.r.fake, fl.user, tok, time.Now())
	g.ClientID = f.cfg.Client.ClientID
	if err := f.writeSecret(ctx, fixture.TokenSecret(fl.server, g)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, "Connected")
}

// writeSecret creates sec, or replaces the one there when the user
// connected to the server before (only with fewer servers than
// connectRounds+1).
func (f *floorCallback) writeSecret(ctx context.Context, sec *corev1.Secret) error {
	err := f.kube.Create(ctx, sec)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old := &corev1.Secret{}
	if err := f.kube.Get(ctx, client.ObjectKeyFromObject(sec), old); err != nil {
		return err
	}
	sec.ResourceVersion = old.ResourceVersion
	return f.kube.Update(ctx, sec)
}

// percentile is the nearest-rank q-quantile of of(timings).
func percentile(timings []connectTiming, of func(connectTiming) time.Duration, q float64) time.Duration {
	if len(timings) == 0 {
		return 0
	}
	d := make([]time.Duration, len(timings))
	for i, tm := range timings {
		d[i] = of(tm)
	}
	slices.Sort(d)
	rank := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(rank, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
