package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
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
	// Resource is the RFC 8707 resource the token was requested for: send
	// it there only. Empty when none was requested (the server's
	// spec.auth.oauth2.resourceIndicator.send is Never).
	Resource string
}

// AuthorizationHeader is the value of the Authorization header for t.
func (t *Token) AuthorizationHeader() string { return t.TokenType + " " + t.AccessToken }

// GetToken returns user's access token for the MCPServer namespace/server,
// or an error matching ErrNotConnected, ErrReauthorizationRequired or
// ErrExpired. It never refreshes: the operator's refresher keeps tokens
// fresh, and a chat pod redeeming refresh tokens itself would race it.
// reader needs get on Secrets in namespace (see the README for the RBAC),
// which is every Secret there: TokenEndpoint is the stronger option.
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
	if !tokensecret.BelongsTo(secret, user) {
		return nil, fmt.Errorf("MCP server %s/%s: %w", namespace, server, ErrNotConnected)
	}
	return tokenFromSecret(secret, now)
}

// tokenFromSecret reads a token Secret. It answers with the operator's one
// rule (tokensecret's Record.AccessAt, which asks Record.Usable first: the
// same answer as the callback server's /connections, its token endpoint and
// status.connectedUsers): a Secret that is not usable is an error saying
// what the user must do. A usable Secret whose access token expires within
// ExpiryMargin (its refresh is due or failing) is ErrExpired too, but only
// for now: the refresher replaces it.
func tokenFromSecret(secret *corev1.Secret, now time.Time) (*Token, error) {
	rec := tokensecret.Read(secret)
	where := secret.Namespace + "/" + rec.Server
	switch rec.AccessAt(now, ExpiryMargin) {
	case tokensecret.AccessOK:
	case tokensecret.AccessReauthorizationRequired:
		return nil, fmt.Errorf("MCP server %s: %w", where, ErrReauthorizationRequired)
	default:
		return nil, fmt.Errorf("MCP server %s: %w", where, ErrExpired)
	}
	tok := &Token{
		AccessToken: rec.AccessToken,
		TokenType:   rec.TokenType,
		Expiry:      rec.Expiry,
		Scopes:      rec.Scopes,
		Resource:    rec.Resource,
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	return tok, nil
}
