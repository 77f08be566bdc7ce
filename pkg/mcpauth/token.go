package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// Annotations the refresher writes on a token Secret after a failed refresh.
// They are cleared by the next successful refresh.
const (
	// AnnotationRefreshError is a short reason for the last failed refresh,
	// e.g. "invalid_grant" or "HTTP 503"; never a token.
	AnnotationRefreshError = "mcpoperator.io/refresh-error"
	// AnnotationRefreshFailures counts consecutive transient failures.
	AnnotationRefreshFailures = "mcpoperator.io/refresh-failures"
	// AnnotationRefreshBackoffUntil is when the refresher tries again (RFC 3339).
	AnnotationRefreshBackoffUntil = "mcpoperator.io/refresh-backoff-until"
)

// Errors Token returns; test them with errors.Is.
var (
	// ErrNotConnected: the user never connected to the server (or disconnected).
	ErrNotConnected = errors.New("the user is not connected to this MCP server")
	// ErrReauthorizationRequired: the user must connect again (the grant or
	// the operator's client was revoked).
	ErrReauthorizationRequired = errors.New("the user must connect to this MCP server again")
	// ErrExpired: the access token expired and the refresher has not replaced
	// it (no refresh token, or the authorization server is failing).
	ErrExpired = errors.New("the user's token for this MCP server has expired")
)

// ExpiryMargin is how long before its expiry a token is already reported
// expired, so a request does not start with a token that dies in flight.
const ExpiryMargin = 10 * time.Second

// Token is a user's usable access token for one MCP server.
type Token struct {
	AccessToken string
	TokenType   string // "Bearer" unless the server said otherwise
	Expiry      time.Time
	Scopes      []string
	// Resource is the RFC 8707 resource the token is for: send it there only.
	Resource string
}

// AuthorizationHeader is the value of the Authorization header for t.
func (t *Token) AuthorizationHeader() string { return t.TokenType + " " + t.AccessToken }

// GetToken returns user's access token for the MCPServer namespace/server,
// or an error matching ErrNotConnected, ErrReauthorizationRequired or
// ErrExpired. It never refreshes: the operator's refresher keeps tokens
// fresh, and a chat pod redeeming refresh tokens itself would race it.
// reader needs get on Secrets in namespace (see the README for the RBAC).
func GetToken(ctx context.Context, reader client.Reader, namespace, server, user string) (*Token, error) {
	return tokenAt(ctx, reader, namespace, server, user, time.Now())
}

func tokenAt(ctx context.Context, reader client.Reader, namespace, server, user string, now time.Time) (*Token, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: namespace, Name: TokenSecretName(server, user)}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("MCP server %s/%s: %w", namespace, server, ErrNotConnected)
		}
		return nil, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	// The name is a hash; the annotation proves the Secret is this user's.
	if secret.Type != mcpv1.SecretTypeUserToken || secret.Annotations[mcpv1.AnnotationUser] != user {
		return nil, fmt.Errorf("MCP server %s/%s: %w", namespace, server, ErrNotConnected)
	}
	return tokenFromSecret(secret, now)
}

// tokenFromSecret reads a token Secret, honouring the refresher's state.
func tokenFromSecret(secret *corev1.Secret, now time.Time) (*Token, error) {
	where := secret.Namespace + "/" + secret.Labels[mcpv1.LabelServer]
	switch State(secret.Annotations[AnnotationState]) {
	case StateReauthorizationRequired, StateClientInvalid:
		return nil, fmt.Errorf("MCP server %s: %w", where, ErrReauthorizationRequired)
	case StateExpired:
		return nil, fmt.Errorf("MCP server %s: %w", where, ErrExpired)
	}
	d := secret.Data
	tok := &Token{
		AccessToken: string(d[KeyAccessToken]),
		TokenType:   string(d[KeyTokenType]),
		Scopes:      strings.Fields(string(d[KeyScope])),
		Resource:    string(d[KeyResource]),
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("MCP server %s: %w", where, ErrReauthorizationRequired)
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if raw := string(d[KeyExpiry]); raw != "" {
		exp, err := time.Parse(time.RFC3339, raw)
		if err != nil || !now.Add(ExpiryMargin).Before(exp) {
			return nil, fmt.Errorf("MCP server %s: %w", where, ErrExpired)
		}
		tok.Expiry = exp
	}
	return tok, nil
}
