package harness

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// PollInterval is how often the watchers below re-read an object.
const PollInterval = 200 * time.Millisecond

// ConditionsSummary renders s's conditions on one line, e.g.
// "AuthConfigured=True/Registered Reachable=True/AuthorizationRequired Ready=True/Ready".
func ConditionsSummary(s *mcpv1.MCPServer) string {
	var parts []string
	for _, t := range []string{mcpv1.ConditionAuthConfigured, mcpv1.ConditionReachable, mcpv1.ConditionReady} {
		if c := meta.FindStatusCondition(s.Status.Conditions, t); c != nil {
			parts = append(parts, fmt.Sprintf("%s=%s/%s", t, c.Status, c.Reason))
		}
	}
	if len(parts) == 0 {
		return "(no conditions yet)"
	}
	return strings.Join(parts, " ")
}

// IsReady reports Ready=True for the current generation.
func IsReady(s *mcpv1.MCPServer) bool {
	c := meta.FindStatusCondition(s.Status.Conditions, mcpv1.ConditionReady)
	return c != nil && c.Status == "True" && c.ObservedGeneration == s.Generation
}

// WaitMCPServer polls the MCPServer key until done returns true, calling
// onChange (if set) whenever its conditions summary changes.
func WaitMCPServer(ctx context.Context, c client.Reader, key client.ObjectKey, timeout time.Duration,
	done func(*mcpv1.MCPServer) bool, onChange func(*mcpv1.MCPServer)) (*mcpv1.MCPServer, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	s := &mcpv1.MCPServer{}
	for {
		err := c.Get(ctx, key, s)
		if err == nil {
			if sum := ConditionsSummary(s); sum != last {
				last = sum
				if onChange != nil {
					onChange(s)
				}
			}
			if done(s) {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return s, fmt.Errorf("MCPServer %s: %w", key, err)
			}
			return s, fmt.Errorf("MCPServer %s not there within %s; last seen: %s", key, timeout, last)
		case <-time.After(PollInterval):
		}
	}
}

// TokenView is a printable view of a user's token Secret: metadata and
// sizes, never a token value.
type TokenView struct {
	Name        string
	Type        corev1.SecretType
	Labels      map[string]string
	User        string
	State       string
	GrantID     string
	IssuedAt    string
	Expiry      string
	Scope       string
	Issuer      string
	Resource    string
	KeySizes    map[string]int
	OwnerKind   string
	OwnerName   string
	accessHash  [32]byte
	refreshHash [32]byte
}

// AccessTokenChanged reports whether v holds a different access token than prev.
func (v *TokenView) AccessTokenChanged(prev *TokenView) bool { return v.accessHash != prev.accessHash }

// RefreshTokenChanged reports whether v holds a different refresh token than prev.
func (v *TokenView) RefreshTokenChanged(prev *TokenView) bool {
	return v.refreshHash != prev.refreshHash
}

// Lines renders v for a terminal, secret values redacted.
func (v *TokenView) Lines() []string {
	keys := make([]string, 0, len(v.KeySizes))
	for k := range v.KeySizes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []string{
		"name:        " + v.Name,
		"type:        " + string(v.Type),
		fmt.Sprintf("labels:      %s=%s, %s=%s", mcpv1.LabelServer, v.Labels[mcpv1.LabelServer], mcpv1.LabelUserHash, v.Labels[mcpv1.LabelUserHash]),
		"user:        " + v.User + "   (annotation " + mcpv1.AnnotationUser + ")",
		"owner:       " + v.OwnerKind + "/" + v.OwnerName,
		"state:       " + v.State,
		"expiry:      " + v.Expiry,
		"scope:       " + v.Scope,
		"issuer:      " + v.Issuer,
		"resource:    " + v.Resource,
	}
	for _, k := range keys {
		val := "<redacted>"
		switch k {
		case mcpauth.KeyExpiry, mcpauth.KeyScope, tokensecret.KeyIssuer, mcpauth.KeyResource, mcpauth.KeyTokenType:
			continue
		}
		out = append(out, fmt.Sprintf("data.%-14s %s (%d bytes)", k+":", val, v.KeySizes[k]))
	}
	return out
}

// GetTokenView reads user's token Secret for namespace/server.
func GetTokenView(ctx context.Context, c client.Reader, namespace, server, user string) (*TokenView, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: namespace, Name: mcpauth.TokenSecretName(server, user)}
	if err := c.Get(ctx, key, sec); err != nil {
		return nil, fmt.Errorf("reading token Secret %s: %w", key, err)
	}
	v := &TokenView{
		Name:        sec.Name,
		Type:        sec.Type,
		Labels:      sec.Labels,
		User:        sec.Annotations[mcpv1.AnnotationUser],
		State:       sec.Annotations[mcpauth.AnnotationState],
		GrantID:     sec.Annotations[tokensecret.AnnotationGrantID],
		IssuedAt:    sec.Annotations[tokensecret.AnnotationIssuedAt],
		Expiry:      string(sec.Data[mcpauth.KeyExpiry]),
		Scope:       string(sec.Data[mcpauth.KeyScope]),
		Issuer:      string(sec.Data[tokensecret.KeyIssuer]),
		Resource:    string(sec.Data[mcpauth.KeyResource]),
		KeySizes:    map[string]int{},
		accessHash:  sha256.Sum256(sec.Data[mcpauth.KeyAccessToken]),
		refreshHash: sha256.Sum256(sec.Data[tokensecret.KeyRefreshToken]),
	}
	for k, val := range sec.Data {
		v.KeySizes[k] = len(val)
	}
	if ref := metav1.GetControllerOf(sec); ref != nil {
		v.OwnerKind, v.OwnerName = ref.Kind, ref.Name
	}
	return v, nil
}

// WaitTokenView polls user's token Secret until done returns true.
func WaitTokenView(ctx context.Context, c client.Reader, namespace, server, user string, timeout time.Duration,
	done func(*TokenView) bool) (*TokenView, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		v, err := GetTokenView(ctx, c, namespace, server, user)
		if err == nil && done(v) {
			return v, nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return v, fmt.Errorf("token Secret of %s for %s/%s: %w", user, namespace, server, last)
			}
			return v, fmt.Errorf("token Secret of %s for %s/%s did not change as expected within %s", user, namespace, server, timeout)
		case <-time.After(PollInterval):
		}
	}
}
