package stalled

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name        string
		err         error
		wantKind    Kind
		wantReason  string
		wantMessage string // a substring
	}{
		{"stalled error", Errorf("SecretNotFound", "Secret %s is missing", "a"), Stalled, "SecretNotFound", "Secret a is missing"},
		{"wrapped stalled error", fmt.Errorf("step: %w", Errorf("CallbackURLMissing", "set --callback-url")), Stalled, "CallbackURLMissing", "set --callback-url"},
		{"transient OAuth failure", &oauth.Error{Reason: oauth.ReasonDiscoveryFailed, Message: "x 503", Transient: true},
			Transient, "DiscoveryFailed", "looks temporary"},
		{"user-fixable OAuth failure", &oauth.Error{Reason: oauth.ReasonRegistrationUnsupported, Message: "set spec.auth.oauth2"},
			Stalled, "RegistrationUnsupported", "set spec.auth.oauth2"},
		{"blocked URL is never transient", &oauth.Error{Reason: oauth.ReasonURLBlocked, Message: "blocked", Transient: true},
			Stalled, "URLBlocked", "blocked"},
		{"OAuth failure without a reason gets the default", &oauth.Error{Message: "odd"}, Stalled, "DiscoveryFailed", "odd"},
		{"API error", errors.New("conflict"), Unexpected, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(tc.err, "DiscoveryFailed")
			if v.Kind != tc.wantKind || v.Reason != tc.wantReason || !strings.Contains(v.Message, tc.wantMessage) {
				t.Fatalf("Classify = %+v, want kind %d reason %q message containing %q", v, tc.wantKind, tc.wantReason, tc.wantMessage)
			}
		})
	}
}

func TestClassifyBoundsUpstreamText(t *testing.T) {
	v := Classify(&oauth.Error{Reason: oauth.ReasonRegistrationFailed, Message: strings.Repeat("é", 5000)}, "")
	if n := len([]rune(v.Message)); n > maxMessage {
		t.Fatalf("message has %d characters, want at most %d", n, maxMessage)
	}
}
