package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// bearerTransport adds the current access token to every MCP request and
// answers the server's challenges the way the operator's MCP-facing
// components must: 403 insufficient_scope → step-up, 401 → rediscover and
// re-authorize (a new authorization server gets a new client). The request
// is retried after a successful re-authorization.
type bearerTransport struct {
	a    *authorizer
	base http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := bufferBody(req)
	if err != nil {
		return nil, err
	}
	reauthorized := false
	for i := 0; ; i++ {
		sent := t.a.token()
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		if sent != "" {
			r.Header.Set("Authorization", "Bearer "+sent)
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		retry, aerr := false, error(nil)
		switch scopes, insufficient := oauth.InsufficientScope(resp); {
		case i > oauth.MaxStepUpAttempts:
			// Bound the loop whatever the authorizer decides.
		case insufficient:
			retry, aerr = t.a.stepUp(req.Context(), sent, scopes)
		case resp.StatusCode == http.StatusUnauthorized:
			challenge, _ := oauth.BearerChallenge(resp)
			retry, aerr = t.a.reauthorize(req.Context(), sent, challenge)
		default:
			if reauthorized && resp.StatusCode < 300 {
				t.a.accepted()
			}
			return resp, nil
		}
		if aerr != nil {
			log.Printf("%s %s: HTTP %d: %v", req.Method, req.URL.Path, resp.StatusCode, aerr)
		}
		if !retry || aerr != nil {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		reauthorized = true
	}
}

// bufferBody reads the request body so that it can be sent again.
func bufferBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer func() { _ = req.Body.Close() }()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the MCP request body: %w", err)
	}
	return b, nil
}
