package callback

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// OpenFlowForTest opens a flow cookie value and returns its secret parts, so
// the log-capture test can look for them.
func (s *Server) OpenFlowForTest(value, namespace, name string) (verifier, state string, err error) {
	f, err := s.cookies.open(value, namespace, name, time.Now())
	return f.Verifier, f.State, err
}

// ClaimTicketForTest claims a connect-link ticket's jti as one replica of the
// server in namespace would.
func ClaimTicketForTest(ctx context.Context, c client.Client, namespace, jti string, expiry time.Time) (bool, error) {
	u := &usedOnce{client: c, namespace: namespace, now: time.Now}
	return u.claim(ctx, usedTicket, jti, expiry)
}

// NewReplicaClaimerForTest is one replica's single-use memory: the returned
// func claims a connect-link ticket's jti.
func NewReplicaClaimerForTest(c client.Client, namespace string) func(ctx context.Context, jti string, expiry time.Time) (bool, error) {
	u := &usedOnce{client: c, namespace: namespace, now: time.Now}
	return func(ctx context.Context, jti string, expiry time.Time) (bool, error) {
		return u.claim(ctx, usedTicket, jti, expiry)
	}
}
