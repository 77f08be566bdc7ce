package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/serverconfig"
)

// authorize is the callback server's part: build the authorization request
// (fresh state and PKCE verifier), let the "browser" follow it, check the
// response (oauth.ParseAuthorizationResponse, as the callback does) and
// exchange the code. Called with a.mu held.
func (a *authorizer) authorize(ctx context.Context) error {
	a.attempts++
	state, verifier := oauth.NewState(), oauth.NewVerifier()
	authURL := oauth.AuthCodeURL(a.flow, state, verifier)
	q, err := a.browse(ctx, authURL)
	if err != nil {
		return err
	}
	code, err := oauth.ParseAuthorizationResponse(a.flow, q, state)
	if err != nil {
		return fmt.Errorf("authorization response rejected: %w", err)
	}
	tok, err := oauth.Exchange(ctx, a.http, a.flow, code, verifier)
	if err != nil {
		return fmt.Errorf("code exchange: %w", err)
	}
	a.tok = tok
	log.Printf("authorized (attempt %d): token type %s, granted scopes %q, refresh token %t",
		a.attempts, tok.TokenType, oauth.JoinScopes(tok.Scopes), tok.RefreshToken != "")
	return nil
}

// browse is the user's browser: GET the authorization URL without following
// the redirect (the suite's authorization endpoint approves at once) and
// return the authorization response: the query of Location.
func (a *authorizer) browse(ctx context.Context, authURL string) (url.Values, error) {
	browser := *a.http
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", err)
	}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", err)
	}
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("authorization endpoint answered HTTP %d without a redirect", resp.StatusCode)
	}
	if !sameEndpoint(loc, redirectURI) {
		return nil, fmt.Errorf("authorization endpoint redirected elsewhere than the redirect URI")
	}
	return loc.Query(), nil
}

// sameEndpoint compares a redirect target with the registered redirect URI,
// ignoring the query.
func sameEndpoint(got *url.URL, want string) bool {
	w, err := url.Parse(want)
	return err == nil && got.Scheme == w.Scheme && got.Host == w.Host && got.Path == w.Path
}

// persisted returns the client as the callback server and the refresher
// see it: written to the <name>-oauth2-client Secret by the reconciler and
// read back, through the one mapping in internal/serverconfig.
func persisted(cl *oauth.Client, redirect string) *oauth.Client {
	secret := &corev1.Secret{Data: serverconfig.ClientSecretData(cl, redirect)}
	back := serverconfig.ClientFromSecret(secret)
	return &back
}
