package callback

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// getTokenSecret returns user's token Secret for server, or nil when there
// is none. A Secret whose recorded user differs (a hash collision or a
// foreign object under our name) is treated as absent: a user only ever
// sees their own connection.
func (s *Server) getTokenSecret(ctx context.Context, namespace, server, user string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: namespace, Name: mcpauth.TokenSecretName(server, user)}
	if err := s.opts.Client.Get(ctx, key, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	if sec.Type != mcpv1.SecretTypeUserToken || sec.Annotations[mcpv1.AnnotationUser] != user {
		return nil, nil
	}
	return sec, nil
}

// tokenSecretData is the Secret content of a fresh grant.
func tokenSecretData(tok *oauth.Token, scopes []string, issuer, resource string) map[string][]byte {
	data := map[string][]byte{
		mcpauth.KeyAccessToken: []byte(tok.AccessToken),
		mcpauth.KeyTokenType:   []byte(tok.TokenType),
		mcpauth.KeyScope:       []byte(oauth.JoinScopes(scopes)),
		mcpauth.KeyIssuer:      []byte(issuer),
		mcpauth.KeyResource:    []byte(resource),
	}
	if tok.RefreshToken != "" {
		data[mcpauth.KeyRefreshToken] = []byte(tok.RefreshToken)
	}
	if !tok.Expiry.IsZero() {
		data[mcpauth.KeyExpiry] = []byte(tok.Expiry.UTC().Format(time.RFC3339))
	}
	return data
}

// newGrantID identifies one completed connect; the refresher compares it to
// tell a reconnect from its own earlier write.
func newGrantID() string { return rand.Text() }

// writeTokenSecret stores a new grant for user, replacing any earlier one:
// data and annotations are replaced, not merged.
func (s *Server) writeTokenSecret(ctx context.Context, srv *mcpv1.MCPServer, user string, data map[string][]byte) error {
	name := mcpauth.TokenSecretName(srv.Name, user)
	annotations := map[string]string{
		mcpv1.AnnotationUser:       user,
		mcpauth.AnnotationState:    string(mcpauth.StateActive),
		mcpauth.AnnotationGrantID:  newGrantID(),
		mcpauth.AnnotationIssuedAt: s.opts.Now().UTC().Format(time.RFC3339),
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec := &corev1.Secret{}
		err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: name}, sec)
		exists := err == nil
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading token Secret %s/%s: %w", srv.Namespace, name, err)
		}
		if exists && sec.Type != mcpv1.SecretTypeUserToken {
			return fmt.Errorf("secret %s/%s exists but is not a user token Secret (type %s); delete it", srv.Namespace, name, sec.Type)
		}
		if !exists {
			sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: name}, Type: mcpv1.SecretTypeUserToken}
		}
		sec.Labels = mcpauth.TokenSecretLabels(srv.Name, user)
		sec.Annotations = annotations
		sec.Data = data
		sec.StringData = nil
		sec.OwnerReferences = nil
		if err := controllerutil.SetControllerReference(srv, sec, s.opts.Client.Scheme()); err != nil {
			return fmt.Errorf("owning token Secret %s/%s by its MCPServer: %w", srv.Namespace, name, err)
		}
		if exists {
			err = s.opts.Client.Update(ctx, sec)
		} else {
			err = s.opts.Client.Create(ctx, sec)
		}
		if err != nil {
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("secrets"), name, err)
			}
			return fmt.Errorf("writing token Secret %s/%s: %w", srv.Namespace, name, err)
		}
		return nil
	})
}

// deleteTokenSecret deletes exactly the Secret that was read.
func (s *Server) deleteTokenSecret(ctx context.Context, sec *corev1.Secret) error {
	err := s.opts.Client.Delete(ctx, sec, client.Preconditions{UID: &sec.UID})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting token Secret %s/%s: %w", sec.Namespace, sec.Name, err)
	}
	return nil
}
