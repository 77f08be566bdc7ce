package oauth

import (
	"errors"
	"net/url"
	"testing"
)

func TestParseAuthorizationResponse(t *testing.T) {
	const issuer, state, code = "https://as.example", "state-value-123", "code-value-456"
	withISS := FlowConfig{Endpoint: Endpoint{Issuer: issuer, ISSParameterSupported: true}}
	noISS := FlowConfig{Endpoint: Endpoint{Issuer: issuer}}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name     string
		cfg      FlowConfig
		query    url.Values
		want     AuthorizationResponseKind // 0: accepted
		denied   bool                      // IsAccessDenied
		errCode  string
		errDescr string
	}{
		{"accepted with iss", withISS, q("code", code, "state", state, "iss", issuer), 0, false, "", ""},
		{"accepted without iss when not advertised", noISS, q("code", code, "state", state), 0, false, "", ""},
		{"state mismatch", withISS, q("code", code, "state", "forged", "iss", issuer), StateMismatch, false, "", ""},
		{"state missing", withISS, q("code", code, "iss", issuer), StateMismatch, false, "", ""},
		{"state mismatch wins over a wrong iss", withISS, q("code", code, "state", "forged", "iss", "https://evil.example"), StateMismatch, false, "", ""},
		{"iss missing when advertised", withISS, q("code", code, "state", state), IssuerMismatch, false, "", ""},
		{"iss wrong", withISS, q("code", code, "state", state, "iss", "https://evil.example"), IssuerMismatch, false, "", ""},
		{"iss unexpected and wrong", noISS, q("code", code, "state", state, "iss", "https://evil.example"), IssuerMismatch, false, "", ""},
		{"iss not normalized", withISS, q("code", code, "state", state, "iss", issuer+"/"), IssuerMismatch, false, "", ""},
		{"iss mismatch + error=access_denied is an issuer error, not denied", withISS,
			q("error", "access_denied", "state", state, "iss", "https://evil.example"), IssuerMismatch, false, "", ""},
		{"access_denied", withISS, q("error", "access_denied", "error_description", "user said no", "state", state, "iss", issuer),
			Denied, true, "access_denied", "user said no"},
		{"other error wins over a code", noISS, q("error", "server_error", "code", code, "state", state), Denied, false, "server_error", ""},
		{"no code", withISS, q("state", state, "iss", issuer), NoCode, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorizationResponse(tc.cfg, tc.query, state)
			if tc.want == 0 {
				if err != nil || got != code {
					t.Fatalf("got (%q, %v), want the code", got, err)
				}
				return
			}
			var are *AuthorizationResponseError
			if !errors.As(err, &are) || got != "" {
				t.Fatalf("got (%q, %v), want *AuthorizationResponseError", got, err)
			}
			if are.Kind != tc.want || are.IsAccessDenied() != tc.denied || are.Code != tc.errCode || are.Description != tc.errDescr {
				t.Errorf("got %+v, want kind %d denied %t code %q description %q", are, tc.want, tc.denied, tc.errCode, tc.errDescr)
			}
			if tc.want == IssuerMismatch && ReasonOf(err) != ReasonIssuerMismatch {
				t.Errorf("issuer mismatch does not unwrap to ReasonIssuerMismatch: %v", err)
			}
			mustNotContain(t, err.Error(), code, state)
		})
	}
}

func TestParseAuthorizationResponseEmptyStateNeverMatches(t *testing.T) {
	_, err := ParseAuthorizationResponse(FlowConfig{}, url.Values{"code": {"c"}, "state": {""}}, "")
	var are *AuthorizationResponseError
	if !errors.As(err, &are) || are.Kind != StateMismatch {
		t.Fatalf("an empty expected state was accepted: %v", err)
	}
}

func TestAuthorizationResponseErrorRedactsDescription(t *testing.T) {
	const state, code = "state-value-123", "code-value-456"
	q := url.Values{"error": {"invalid_request"}, "state": {state}, "code": {code},
		"error_description": {"bad request state=" + state + " code=" + code}}
	_, err := ParseAuthorizationResponse(FlowConfig{}, q, state)
	if err == nil {
		t.Fatal("an error response was accepted")
	}
	mustContain(t, err.Error(), "invalid_request", "[redacted]")
	mustNotContain(t, err.Error(), state, code)
}

// The callback server shows Code and Description on its error page and logs
// them: the fields themselves carry neither the state nor the code, whatever
// a provider echoes into them.
func TestAuthorizationResponseErrorFieldsCarryNoStateOrCode(t *testing.T) {
	const state, code = "state-value-123", "code-value-456"
	q := url.Values{"error": {"denied " + state}, "state": {state}, "code": {code},
		"error_description": {"bad request state=" + state + " code=" + code}}
	_, err := ParseAuthorizationResponse(FlowConfig{}, q, state)
	var are *AuthorizationResponseError
	if !errors.As(err, &are) || are.Kind != Denied {
		t.Fatalf("err = %v, want a Denied response", err)
	}
	for _, v := range []string{are.Code, are.Description} {
		mustNotContain(t, v, state, code)
		mustContain(t, v, "[redacted]")
	}
}
