package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Token is a token endpoint response.
type Token struct {
	AccessToken string
	TokenType   string // "Bearer" when the server did not say
	// RefreshToken is what the server returned, possibly empty. On refresh
	// an empty value means the server did not rotate: the caller keeps the
	// refresh token it has. A non-empty value replaces it and must be stored
	// before anything else happens (the old one may now be revoked).
	RefreshToken string
	Expiry       time.Time // zero when the server sent no expires_in
	// ExpiresIn is the lifetime the server announced (zero when it sent
	// none). Callers with an injected clock compute expiry from it.
	ExpiresIn time.Duration
	Scopes    []string // granted scopes when the server said; nil otherwise
	IDToken   string
}

// TokenError is a failed token, refresh or revocation request.
type TokenError struct {
	Code        string // RFC 6749 §5.2 error: invalid_grant, invalid_client, ...
	Description string // error_description or body excerpt: truncated, secrets redacted
	StatusCode  int    // 0 when no response was received
	URL         string // endpoint, query removed
	Err         error  // network or decoding failure, if any

	endpoint string // "token endpoint" / "revocation endpoint"
}

func (e *TokenError) Error() string {
	what := e.endpoint
	if what == "" {
		what = "token endpoint"
	}
	if e.StatusCode == 0 {
		if e.Err != nil {
			var oe *Error
			if errors.As(e.Err, &oe) {
				return oe.Error()
			}
			return fmt.Sprintf("request to %s %s failed: %s", what, e.URL, safeErrorText(e.Err))
		}
		return fmt.Sprintf("request to %s %s failed", what, e.URL)
	}
	msg := fmt.Sprintf("%s %s answered HTTP %d", what, e.URL, e.StatusCode)
	if e.Code != "" {
		msg += ": " + redact.Line(e.Code, 64)
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	switch {
	case e.IsInvalidGrant():
		msg += " (the grant is no longer valid; the user must connect again)"
	case e.IsInvalidClient():
		msg += " (the client credentials were rejected; register again or fix spec.auth.oauth2)"
	}
	return msg
}

func (e *TokenError) Unwrap() error { return e.Err }

// IsInvalidGrant reports a dead refresh token or code: stop retrying and mark
// the user as needing to reconnect.
func (e *TokenError) IsInvalidGrant() bool { return e.Code == "invalid_grant" }

// IsInvalidScope reports a refresh refused for its scope. A refresh sends
// none (the grant's, RFC 6749 §6), so the server no longer issues what the
// user granted: stop retrying and mark the user as needing to reconnect.
func (e *TokenError) IsInvalidScope() bool { return e.Code == "invalid_scope" }

// IsInvalidClient reports that the client is unknown or its credentials are
// wrong (for example a DCR client the server deleted); register again. A 401 without an
// error code counts too (RFC 6749 §5.2).
func (e *TokenError) IsInvalidClient() bool {
	return e.Code == "invalid_client" || (e.Code == "" && e.StatusCode == http.StatusUnauthorized)
}

// Transient reports a network failure, timeout, 5xx, 429 or
// temporarily_unavailable: retry with backoff.
func (e *TokenError) Transient() bool {
	if e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.Code == "temporarily_unavailable" {
		return true
	}
	return e.StatusCode == 0 && isNetworkError(e.Err)
}

// effectiveAuthMethod resolves how the client authenticates: the registered
// method when it is one we implement and a secret exists; a pre-registered
// confidential client without a method uses basic; otherwise none.
func effectiveAuthMethod(cl Client) string {
	if cl.ClientSecret == "" {
		return AuthMethodNone
	}
	switch cl.TokenEndpointAuthMethod {
	case AuthMethodClientSecretPost:
		return AuthMethodClientSecretPost
	case AuthMethodNone:
		return AuthMethodNone
	}
	return AuthMethodClientSecretBasic
}

// postForm sends an authenticated form POST to a token or revocation
// endpoint. The caller owns the response.
func postForm(ctx context.Context, c *http.Client, kind RequestKind, endpoint string, form url.Values, cl Client, what string) (*http.Response, *TokenError) {
	safe := redact.URL(endpoint)
	switch effectiveAuthMethod(cl) {
	case AuthMethodClientSecretPost:
		form.Set("client_id", cl.ClientID)
		form.Set("client_secret", cl.ClientSecret)
	case AuthMethodNone:
		form.Set("client_id", cl.ClientID)
	}
	req, err := http.NewRequestWithContext(WithKind(ctx, kind), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &TokenError{URL: safe, Err: fmt.Errorf("invalid %s URL", what), endpoint: what}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if effectiveAuthMethod(cl) == AuthMethodClientSecretBasic {
		// RFC 6749 §2.3.1: form-encode before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(cl.ClientID), url.QueryEscape(cl.ClientSecret))
	}
	resp, err := clientOrDefault(c).Do(req)
	if err != nil {
		var oe *Error
		if errors.As(err, &oe) {
			err = oe
		}
		return nil, &TokenError{URL: safe, Err: err, endpoint: what}
	}
	return resp, nil
}

// parseTokenResponse reads a token endpoint answer. secrets are redacted from
// any quoted upstream text.
func parseTokenResponse(resp *http.Response, safeURL string, secrets ...string) (*Token, error) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &TokenError{URL: safeURL, Err: err}
	}
	failed := resp.StatusCode < 200 || resp.StatusCode > 299
	var tj tokenJSON
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var decodeErr error
	if mt == "application/x-www-form-urlencoded" || (mt == "text/plain" && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))) {
		decodeErr = tj.fromForm(body)
	} else {
		decodeErr = json.Unmarshal(body, &tj)
	}
	if failed || tj.Error != "" {
		te := &TokenError{URL: safeURL, StatusCode: resp.StatusCode, Code: upstreamCode(tj.Error, secrets...)}
		switch {
		case tj.ErrorDescription != "":
			te.Description = quoteUpstream(tj.ErrorDescription, secrets...)
		case tj.Error == "":
			te.Description = quoteUpstream(string(body), secrets...)
		}
		return nil, te
	}
	if decodeErr != nil {
		return nil, &TokenError{URL: safeURL, StatusCode: resp.StatusCode, Description: "the response is not a valid token response (JSON expected)"}
	}
	tj.url, tj.status = safeURL, resp.StatusCode
	return tj.token()
}

type tokenJSON struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	RefreshToken     string          `json:"refresh_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Scope            string          `json:"scope"`
	IDToken          string          `json:"id_token"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`

	url    string
	status int // the 2xx the response came with
}

func (tj *tokenJSON) fromForm(body []byte) error {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return err
	}
	tj.AccessToken, tj.TokenType, tj.RefreshToken = v.Get("access_token"), v.Get("token_type"), v.Get("refresh_token")
	tj.Scope, tj.IDToken, tj.Error, tj.ErrorDescription = v.Get("scope"), v.Get("id_token"), v.Get("error"), v.Get("error_description")
	if e := v.Get("expires_in"); e != "" {
		tj.ExpiresIn = json.RawMessage(strconv.Quote(e))
	}
	return nil
}

func (tj *tokenJSON) token() (*Token, error) {
	if tj.AccessToken == "" {
		return nil, &TokenError{URL: tj.url, StatusCode: tj.status, Description: "the response has no access_token"}
	}
	t := &Token{AccessToken: tj.AccessToken, TokenType: tj.TokenType, RefreshToken: tj.RefreshToken,
		Scopes: ParseScope(tj.Scope), IDToken: tj.IDToken}
	if t.TokenType == "" {
		t.TokenType = "Bearer"
	}
	if secs := parseExpiresIn(tj.ExpiresIn); secs > 0 {
		t.ExpiresIn = time.Duration(secs) * time.Second
		t.Expiry = time.Now().Add(t.ExpiresIn)
	}
	return t, nil
}

// parseExpiresIn accepts a JSON number or a string holding one (PayPal and
// others); anything else means "unknown".
func parseExpiresIn(raw json.RawMessage) int64 {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(unq)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0
	}
	const maxSecs = 10 * 365 * 24 * 3600
	if f > maxSecs {
		f = maxSecs
	}
	return int64(f)
}
