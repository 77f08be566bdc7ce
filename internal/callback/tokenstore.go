package callback

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// getTokenSecret returns user's token Secret for server, or nil when there
// is none. A Secret that is not this user's token Secret (tokensecret.BelongsTo)
// is treated as absent: a user only ever sees their own connection.
func (s *Server) getTokenSecret(ctx context.Context, namespace, server, user string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: namespace, Name: tokensecret.Name(server, user)}
	if err := s.opts.Client.Get(ctx, key, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	if !tokensecret.BelongsTo(sec, user) {
		return nil, nil
	}
	return sec, nil
}

// serverToken returns user's token Secret for srv when srv controls it
// (tokensecret.ControlledBy, the refresher's rule for which Secrets it
// refreshes and counts), or nil: a look-alike someone else wrote under the
// name is no connection, and its token is never handed out.
func (s *Server) serverToken(ctx context.Context, srv *mcpv1.MCPServer, user string) (*corev1.Secret, error) {
	sec, err := s.getTokenSecret(ctx, srv.Namespace, srv.Name, user)
	if err != nil || sec == nil || !tokensecret.ControlledBy(sec, srv) {
		return nil, err
	}
	return sec, nil
}

// writeTokenSecret stores a new grant, replacing any earlier one of the
// user: the codec replaces labels, annotations, data and owner references.
// A first connect creates the Secret in one request; a reconnect finds it
// there, reads it and updates it (the codec keeps what a grant of the same
// user carries over, such as a refresh token the provider did not resend).
func (s *Server) writeTokenSecret(ctx context.Context, srv *mcpv1.MCPServer, g tokensecret.Grant) error {
	name := tokensecret.Name(srv.Name, g.User)
	first := &corev1.Secret{}
	tokensecret.WriteGrant(first, srv, g)
	err := s.opts.Client.Create(ctx, first)
	if err == nil {
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("writing token Secret %s/%s: %w", srv.Namespace, name, err)
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
			sec = &corev1.Secret{}
		}
		tokensecret.WriteGrant(sec, srv, g)
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
