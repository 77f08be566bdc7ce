package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/internal/redact"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// Browser is a headless user agent: a cookie jar, redirects followed as a
// browser follows them, and a stand-in for the authenticating proxy that adds
// the user header to requests for the callback server's origin only.
type Browser struct {
	CallbackURL string // public base URL of the callback server
	UserHeader  string // e.g. X-Forwarded-User
	User        string
	client      *http.Client
	hops        []Hop
}

// Hop is one request the browser made. URL carries no query: authorization
// requests and callbacks carry state and codes that must never be printed.
type Hop struct {
	Method string
	URL    string
	Status int
}

func (h Hop) String() string { return fmt.Sprintf("%d  %-4s %s", h.Status, h.Method, h.URL) }

// NewBrowser returns a browser signed in (through the proxy) as user.
func NewBrowser(callbackURL, userHeader, user string) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{CallbackURL: strings.TrimSuffix(callbackURL, "/"), UserHeader: userHeader, User: user}
	b.client = &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: &proxyTransport{b: b, base: http.DefaultTransport},
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("more than 10 redirects")
			}
			return nil
		},
	}
	return b
}

// WithRootCAs makes the browser trust the CAs of pool instead of the system
// roots, as a laptop with a corporate CA installed does.
func (b *Browser) WithRootCAs(pool *x509.CertPool) *Browser {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	b.client.Transport = &proxyTransport{b: b, base: t}
	return b
}

// proxyTransport adds the user header for the callback origin and records
// every hop.
type proxyTransport struct {
	b    *Browser
	base http.RoundTripper
}

func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.b.UserHeader != "" && strings.HasPrefix(req.URL.String(), t.b.CallbackURL+"/") {
		req = req.Clone(req.Context())
		req.Header.Set(t.b.UserHeader, t.b.User)
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		t.b.hops = append(t.b.hops, Hop{Method: req.Method, URL: Redact(req.URL), Status: resp.StatusCode})
	}
	return resp, err
}

// Redact drops the query of u (it may hold a code, a state or a ticket),
// its fragment and user info, through redact.URL; "?…" marks a dropped query.
func Redact(u *url.URL) string {
	s := redact.URL(u.String())
	if u.RawQuery != "" {
		s += "?" + redact.Ellipsis
	}
	return s
}

// ConnectResult is what a connect produced.
type ConnectResult struct {
	Hops   []Hop
	Status int
	Page   string // the final page, at most 4 KiB
}

// Connect opens the callback server's connect URL for namespace/name,
// presses the confirmation page's button, and follows every redirect:
// connect → confirmation → authorization server (auto-approves) → callback.
// It succeeds when the final page answers 200.
func (b *Browser) Connect(ctx context.Context, namespace, name string) (*ConnectResult, error) {
	b.hops = nil
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mcpauth.ConnectURL(b.CallbackURL, namespace, name), nil)
	if err != nil {
		return nil, err
	}
	res, err := b.do(req, namespace, name)
	if err != nil {
		return res, err
	}
	action, fields, ok := ConfirmForm(res.Page)
	if !ok {
		return res, fmt.Errorf("connecting %s to %s/%s: the connect page asks for no confirmation: %.300s", b.User, namespace, name, res.Page)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req, namespace, name)
}

// do sends req, follows redirects, and expects a 200 page at the end.
func (b *Browser) do(req *http.Request, namespace, name string) (*ConnectResult, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		// The transport error quotes the failing hop's URL, query (code,
		// state) included.
		return &ConnectResult{Hops: b.hops}, fmt.Errorf("connecting %s to %s/%s: %s", b.User, namespace, name, redact.Error(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	res := &ConnectResult{Hops: b.hops, Status: resp.StatusCode, Page: string(body)}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("connecting %s to %s/%s: the last page (%s) answered %d: %.300s",
			b.User, namespace, name, Redact(resp.Request.URL), resp.StatusCode, body)
	}
	return res, nil
}

var (
	confirmFormTag   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	confirmFormInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// ConfirmForm reads the callback server's connect confirmation page: the
// URL its form posts to and the form's fields, as a browser would submit
// them when the user presses the button. ok is false for any other page.
func ConfirmForm(page string) (action string, fields url.Values, ok bool) {
	m := confirmFormTag.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	fields = url.Values{}
	for _, in := range confirmFormInput.FindAllStringSubmatch(page, -1) {
		fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields, true
}

// Disconnect asks the callback server to revoke and delete the user's
// connection to namespace/name; it expects 204.
func (b *Browser) Disconnect(ctx context.Context, namespace, name string) error {
	u := b.CallbackURL + "/connections/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("disconnecting %s from %s/%s: %w", b.User, namespace, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("disconnecting %s from %s/%s: answered %d: %s", b.User, namespace, name, resp.StatusCode, body)
	}
	return nil
}

// ConnectionList is the body of the callback server's GET /connections.
type ConnectionList struct{ callback.ConnectionList }

// Find returns the entry of namespace/name.
func (l *ConnectionList) Find(namespace, name string) (callback.Connection, bool) {
	for _, c := range l.Connections {
		if c.Namespace == namespace && c.Name == name {
			return c, true
		}
	}
	return callback.Connection{}, false
}

// Connections returns the callback server's /connections answer for the
// user. Anything else is an error: another status or Content-Type, a member
// callback.ConnectionList does not have, a required member missing, data
// after the object, or another user's list.
func (b *Browser) Connections(ctx context.Context) (*ConnectionList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.CallbackURL+mcpauth.ConnectionsPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("listing connections of %s: %w", b.User, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing connections of %s: answered %d: %.300s", b.User, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return nil, fmt.Errorf("listing connections of %s: Content-Type %q, want application/json", b.User, ct)
	}
	list, err := decodeConnections(body)
	if err != nil {
		return nil, fmt.Errorf("listing connections of %s: %w: %.300s", b.User, err, body)
	}
	if list.User != b.User {
		return nil, fmt.Errorf("listing connections of %s: the answer is for user %q", b.User, list.User)
	}
	return list, nil
}

// requiredConnectionMembers are the members of every /connections entry,
// as a chat UI reads them. They are written out here, not derived from
// callback.Connection, so that renaming or dropping one fails the e2e suite
// instead of following along.
var requiredConnectionMembers = []string{"namespace", "name", "displayName", "authType", "connected"}

// decodeConnections decodes a /connections body strictly.
func decodeConnections(body []byte) (*ConnectionList, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	list := &ConnectionList{}
	if err := dec.Decode(&list.ConnectionList); err != nil {
		return nil, fmt.Errorf("unexpected answer: %w", err)
	}
	if dec.More() {
		return nil, errors.New("unexpected answer: data after the JSON object")
	}
	var members struct {
		User        *string                       `json:"user"`
		Connections *[]map[string]json.RawMessage `json:"connections"`
	}
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, fmt.Errorf("unexpected answer: %w", err)
	}
	if members.User == nil || members.Connections == nil {
		return nil, errors.New(`unexpected answer: "user" or "connections" is missing or null`)
	}
	for i, c := range *members.Connections {
		for _, k := range requiredConnectionMembers {
			if _, ok := c[k]; !ok {
				return nil, fmt.Errorf("unexpected answer: connections[%d] has no %q", i, k)
			}
		}
	}
	return list, nil
}
