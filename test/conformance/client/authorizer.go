package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// authorizer holds what the operator keeps for one OAuth2 MCPServer (the
// discovery result, the registered client, the flow configuration and the
// current token) and performs each step with the operator's functions.
type authorizer struct {
	cfg  config
	http *http.Client // the operator's egress client, loopback http allowed

	mu   sync.Mutex
	flow oauth.FlowConfig
	tok  *oauth.Token
	// attempts counts the authorizations of the current chain of
	// challenges (the first one included); a request that succeeds after a
	// re-authorization ends the chain. At most oauth.MaxStepUpAttempts.
	attempts int
}

func newAuthorizer(cfg config) *authorizer {
	return &authorizer{
		cfg:  cfg,
		http: oauth.NewHTTPClient(oauth.EgressPolicy{AllowLoopback: true, AllowInsecureHTTP: true}),
	}
}

// connect is the operator's first connection: the reconciler discovers and
// registers, then the user's authorization runs through the callback server.
func (a *authorizer) connect(ctx context.Context) error {
	d, err := oauth.Discover(ctx, a.http, a.cfg.ServerURL)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.configure(ctx, d, oauth.DefaultScopes(nil, d)); err != nil {
		return err
	}
	return a.authorize(ctx)
}

// configure builds the flow configuration from a discovery result, reusing
// the client while oauth.ReplaceReason keeps it (among others: only while
// it is bound to the same issuer, so credentials are never sent to another
// authorization server), else registering again.
func (a *authorizer) configure(ctx context.Context, d *oauth.Discovery, scopes []string) error {
	cl, err := a.client(ctx, d, scopes)
	if err != nil {
		return err
	}
	a.flow = oauth.FlowConfig{
		Client:      *cl,
		Endpoint:    oauth.EndpointFromMetadata(&d.AuthServer),
		RedirectURI: redirectURI,
		Resource:    d.Resource,
		Scopes:      scopes,
	}
	log.Printf("configured: issuer %s, registration %s, auth method %q, scopes %q, resource %s",
		d.AuthServer.Issuer, cl.Method, cl.TokenEndpointAuthMethod, oauth.JoinScopes(scopes), d.Resource)
	return nil
}

// client picks the OAuth client for the discovered authorization server:
// the pre-registered one when it is bound to that issuer, the current one
// while the reconciler's decision (oauth.ReplaceReason) keeps it, else a
// new registration (oauth.Register: CIMD, else DCR).
func (a *authorizer) client(ctx context.Context, d *oauth.Discovery, scopes []string) (*oauth.Client, error) {
	issuer := d.AuthServer.Issuer
	if pre := a.cfg.PreRegistered; pre != nil && (pre.Issuer == "" || pre.Issuer == issuer) {
		cl := *pre
		cl.Issuer = issuer
		return &cl, nil
	}
	var cur *oauth.Client
	if a.flow.Client.ClientID != "" {
		cur = &a.flow.Client
	}
	why := oauth.ReplaceReason(cur, oauth.ClientRequirements{
		Issuer:             issuer,
		RedirectURI:        redirectURI,
		CurrentRedirectURI: redirectURI, // fixed for the run
		CIMDURL:            clientIDMetadataURL,
		CIMDSupported:      &d.AuthServer.ClientIDMetadataDocumentSupported,
		Now:                time.Now(),
	})
	if why == "" {
		kept := *cur
		return &kept, nil
	}
	log.Printf("registering: %s", why)
	cl, err := oauth.Register(ctx, a.http, &d.AuthServer, oauth.RegistrationRequest{
		ClientName:          clientName,
		RedirectURI:         redirectURI,
		Scopes:              scopes,
		ClientIDMetadataURL: clientIDMetadataURL,
	})
	if err != nil {
		return nil, fmt.Errorf("registration: %w", err)
	}
	return persisted(cl, redirectURI), nil
}

// token returns the current access token ("" before the first one).
func (a *authorizer) token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok == nil {
		return ""
	}
	return a.tok.AccessToken
}

// accepted records that a re-authorized request succeeded.
func (a *authorizer) accepted() {
	a.mu.Lock()
	a.attempts = 0
	a.mu.Unlock()
}

// stepUp handles 403 insufficient_scope: authorize again for the union of
// the scopes asked so far and the challenged ones, at most
// oauth.MaxStepUpAttempts authorizations in a row. It reports whether the
// request should be retried.
func (a *authorizer) stepUp(ctx context.Context, sent string, challenged []string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && a.tok.AccessToken != sent {
		return true, nil // another request already stepped up
	}
	if a.attempts >= oauth.MaxStepUpAttempts {
		return false, fmt.Errorf("insufficient_scope after %d authorizations; giving up", a.attempts)
	}
	a.flow.Scopes = oauth.UnionScopes(a.flow.Scopes, challenged)
	log.Printf("403 insufficient_scope for %q: re-authorizing with %q", oauth.JoinScopes(challenged), oauth.JoinScopes(a.flow.Scopes))
	return true, a.authorize(ctx)
}

// reauthorize handles a 401 on a request that carried a token: the token is
// dead or the server moved to another authorization server. Discovery runs
// again from the challenge; with the same issuer and a refresh token the
// refresher's path is tried first; otherwise (a new issuer means a new
// client) the user authorizes again. It reports whether to retry.
func (a *authorizer) reauthorize(ctx context.Context, sent string, challenge map[string]string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && a.tok.AccessToken != sent {
		return true, nil
	}
	if a.attempts >= oauth.MaxStepUpAttempts {
		return false, fmt.Errorf("401 after %d authorizations; giving up", a.attempts)
	}
	d, err := oauth.DiscoverFromChallenge(ctx, a.http, a.cfg.ServerURL, challenge)
	if err != nil {
		return false, fmt.Errorf("rediscovery after 401: %w", err)
	}
	sameIssuer := d.AuthServer.Issuer == a.flow.Client.Issuer
	if sameIssuer && a.tok != nil && a.tok.RefreshToken != "" && a.refresh(ctx) == nil {
		log.Print("401: token refreshed")
		return true, nil
	}
	scopes := oauth.DefaultScopes(nil, d)
	if sameIssuer {
		scopes = oauth.UnionScopes(a.flow.Scopes, scopes)
	}
	if !sameIssuer {
		log.Printf("401: the authorization server moved from %s to %s; registering again", a.flow.Client.Issuer, d.AuthServer.Issuer)
	}
	if err := a.configure(ctx, d, scopes); err != nil {
		return false, err
	}
	return true, a.authorize(ctx)
}

// refresh is the refresher's path: oauth.Refresh with the stored refresh
// token, keeping it when the server does not rotate it.
func (a *authorizer) refresh(ctx context.Context) error {
	t, err := oauth.Refresh(ctx, a.http, a.flow, a.tok.RefreshToken, a.flow.Resource)
	if err != nil {
		log.Printf("refresh failed, authorizing again: %v", err)
		return err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = a.tok.RefreshToken
	}
	a.tok = t
	return nil
}
