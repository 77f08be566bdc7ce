package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

// refreshWorkers are the token refresher's workers (controllers/tokenrefresh),
// so the floor refreshes with the same concurrency.
const refreshWorkers = 8

// dueGrant is the grant the callback stored for user when the fake issued
// tok long enough ago that its refresh is due now.
func (r *rig) dueGrant(user string, tok fakeauth.Tokens) tokensecret.Grant {
	issuedAt := time.Now().Add(-time.Duration(tok.ExpiresIn)*time.Second + 2*time.Minute)
	return fixture.FakeGrant(r.fake, user, tok, issuedAt)
}

// runP5 has the manager refresh cfg.Refreshes due token Secrets of the
// servers in ns, against a bare client doing the same Secret creates, token
// requests and Secret updates with the refresher's concurrency.
func (r *rig) runP5(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	n := r.cfg.Refreshes
	servers := r.listServers(ctx, t, ns)
	toks := r.issueTokens(t, servers, n)
	r.fake.ResetCounters()
	progress("P5: %d due refreshes by the manager", n)
	start := time.Now()
	must(t, forEach(ctx, n, writers, func(i int) error {
		return r.measured.Create(ctx, fixture.TokenSecret(&servers[i%len(servers)], r.dueGrant(fmt.Sprintf("due-%d", i), toks[i])))
	}))
	must(t, waitFor(ctx, "P5 refreshes", n, 30*time.Minute, func() (int, error) { return r.fake.Counters().TokenRefresh, nil }))
	must(t, waitFor(ctx, "P5 refreshed Secrets", n, time.Minute, func() (int, error) { return r.countRefreshed(ctx, ns, start) }))
	took := time.Since(start)
	c := r.fake.Counters()

	floorToks := r.issueTokens(t, servers, n)
	progress("P5: %d refreshes by a bare client", n)
	floor, err := r.floorRefreshes(ctx, servers, floorToks)
	must(t, err)
	r.report.Add(Figure{ID: "P5", Name: fmt.Sprintf("%d due refreshes completed", n), Unit: "s",
		Value: took.Seconds(), Floor: floor.Seconds(), Goal: "≤ 1.5×"})
	r.report.Add(Figure{ID: "P5", Name: "token requests for them", Value: float64(c.TokenRefresh), Goal: fmt.Sprintf("= %d", n)})
	r.report.Add(Figure{ID: "P5", Name: "double redemptions at the fake", Value: float64(c.ReuseDetected), Goal: "0"})
}

// issueTokens has the fake mint n grants, the i-th for servers[i%len]'s client.
func (r *rig) issueTokens(t *testing.T, servers []mcpv1.MCPServer, n int) []fakeauth.Tokens {
	t.Helper()
	toks := make([]fakeauth.Tokens, n)
	for i := range toks {
		var err error
		toks[i], err = r.fake.IssueTokens(servers[i%len(servers)].Status.OAuth2.ClientID)
		must(t, err)
		if toks[i].RefreshToken == "" {
			t.Fatal("the fake issued no refresh token to the manager's client")
		}
	}
	return toks
}

// countRefreshed counts the P5 Secrets in ns refreshed since start. Issue
// times are stored to the second, and a due Secret's is minutes before start.
func (r *rig) countRefreshed(ctx context.Context, ns string, start time.Time) (int, error) {
	since := start.Truncate(time.Second)
	var list corev1.SecretList
	if err := r.setup.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		rec := tokensecret.Read(&list.Items[i])
		if strings.HasPrefix(rec.User, "due-") && !rec.IssuedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// floorRefreshes creates each due Secret (controlled by a floor server),
// refreshes its token at the fake and updates the Secret, as a bare client.
func (r *rig) floorRefreshes(ctx context.Context, servers []mcpv1.MCPServer, toks []fakeauth.Tokens) (time.Duration, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	err := forEach(ctx, len(toks), refreshWorkers, func(i int) error {
		srv := servers[i%len(servers)].DeepCopy()
		srv.Namespace = floorNamespace // the manager does not watch it
		sec := fixture.TokenSecret(srv, r.dueGrant(fmt.Sprintf("floor-due-%d", i), toks[i]))
		if err := r.measured.Create(ctx, sec); err != nil {
			return err
		}
		tok, err := r.refresh(ctx, hc, srv.Status.OAuth2.ClientID, toks[i].RefreshToken)
		if err != nil {
			return err
		}
		now := time.Now()
		tokensecret.ApplyRefreshed(sec, tokensecret.Tokens{AccessToken: tok.AccessToken, TokenType: tok.TokenType,
			RefreshToken: tok.RefreshToken, Expiry: now.Add(time.Duration(tok.ExpiresIn) * time.Second)}, now)
		return r.measured.Update(ctx, sec)
	})
	return time.Since(start), err
}

// refresh redeems refreshToken at the fake's token endpoint as clientID.
func (r *rig) refresh(ctx context.Context, hc *http.Client, clientID, refreshToken string) (fakeauth.Tokens, error) {
	return r.tokenRequest(ctx, hc, clientID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken},
		"resource": {r.fake.MCPURL()}})
}

// tokenRequest posts form to the fake's token endpoint, authenticated as
// clientID the way the client registered; the floors' token requests.
func (r *rig) tokenRequest(ctx context.Context, hc *http.Client, clientID string, form url.Values) (fakeauth.Tokens, error) {
	cl, ok := r.fake.Client(clientID)
	if !ok {
		return fakeauth.Tokens{}, fmt.Errorf("the fake does not know client %s", clientID)
	}
	if cl.AuthMethod != fakeauth.AuthBasic {
		form.Set("client_id", cl.ID)
	}
	if cl.AuthMethod == fakeauth.AuthPost {
		form.Set("client_secret", cl.Secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.fake.Endpoints().Token, strings.NewReader(form.Encode()))
	if err != nil {
		return fakeauth.Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cl.AuthMethod == fakeauth.AuthBasic {
		req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fakeauth.Tokens{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		// The body is an OAuth error (no token in it).
		return fakeauth.Tokens{}, fmt.Errorf("token endpoint: %d %s", resp.StatusCode, body)
	}
	var tok fakeauth.Tokens
	return tok, json.Unmarshal(body, &tok)
}
