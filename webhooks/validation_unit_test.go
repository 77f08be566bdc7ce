package webhooks

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

func TestValidateEndpointURL(t *testing.T) {
	for raw, wantErr := range map[string]string{
		"https://mcp.example.com/mcp":                    "",
		"https://mcp.example.com/mcp?tenant=a":           "",
		"http://127.0.0.1:8080/mcp":                      "",
		"http://127.8.9.10/mcp":                          "",
		"http://[::1]:8080/mcp":                          "",
		"http://localhost/mcp":                           "",
		"http://LOCALHOST./mcp":                          "",
		"http://mcp.tools.svc:8080/mcp":                  "",
		"http://mcp.tools.svc.cluster.local/mcp":         "",
		"http://web-0.web.tools.svc.cluster.local/mcp":   "",
		"http://mcp.example.com/mcp":                     "plain http",
		"http://10.0.0.1/mcp":                            "plain http",
		"http://0.0.0.0/mcp":                             "plain http",
		"http://[::2]/mcp":                               "plain http",
		"http://tools.svc/mcp":                           "plain http",
		"http://mcp.tools/mcp":                           "plain http",
		"http://example.svc.evil.com/mcp":                "plain http",
		"http://localhost.example.com/mcp":               "plain http",
		"http://127.0.0.1.nip.io/mcp":                    "plain http",
		"https://user:pw@mcp.example.com/mcp":            "user info",
		"https://user@mcp.example.com/mcp":               "user info",
		"https://mcp.example.com/mcp#top":                "fragment",
		"https://mcp.example.com/mcp#":                   "fragment",
		"https:///mcp":                                   "must name a host",
		"https://:443/mcp":                               "must name a host",
		"/mcp":                                           "absolute http or https",
		"ftp://mcp.example.com/":                         "absolute http or https",
		"https://mcp.example.com/%zz":                    "absolute http or https",
		"http://user:pw@mcp.example.com/mcp#x":           "user info",
		"https://mcp.example.com/mcp?access_token=s3cre": "",
		"https:user:pw@mcp.example.com/mcp":              "must name a host",
		"https://user:pw@mcp.example.com/%zz":            "absolute http or https",
	} {
		errs := validateEndpointURL(raw, field.NewPath("spec", "url"))
		got := errs.ToAggregate()
		switch {
		case wantErr == "" && got != nil:
			t.Errorf("%q: unexpected error %v", raw, got)
		case wantErr != "" && (got == nil || !strings.Contains(got.Error(), wantErr)):
			t.Errorf("%q: error %v, want one saying %q", raw, got, wantErr)
		case got != nil && (strings.Contains(got.Error(), "pw") || strings.Contains(got.Error(), "user@")):
			t.Errorf("%q: error echoes user info: %v", raw, got)
		}
	}
}

func TestValidateScopes(t *testing.T) {
	errs := validateScopes([]string{"openid", "read write", "", `a"b`, "openid", "ok:scope"}, field.NewPath("scopes"))
	want := []string{"scopes[1]", "scopes[2]", "scopes[3]", "scopes[4]"}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, e := range errs {
		if e.Field != want[i] {
			t.Errorf("error %d is for %s, want %s", i, e.Field, want[i])
		}
	}
}

func TestValidateTools(t *testing.T) {
	errs := validateTools(&mcpv1.ToolFilter{
		Allow: []string{"search", "read file", "", strings.Repeat("x", 129), "delete"},
		Deny:  []string{"delete", "bad\x01"},
	}, field.NewPath("tools"))
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] += e.Error()
	}
	for f, says := range map[string]string{
		"tools.allow[1]": "list each tool as its own entry",
		"tools.allow[2]": "must not be empty",
		"tools.allow[3]": "128",
		"tools.allow[4]": "deny would win",
		"tools.deny[1]":  "control characters",
	} {
		if !strings.Contains(got[f], says) {
			t.Errorf("%s: %q, want it to say %q", f, got[f], says)
		}
	}
	if len(errs) != 5 {
		t.Errorf("got %d errors, want 5: %v", len(errs), errs)
	}
}

func TestValidateSecretKeySelector(t *testing.T) {
	errs := validateSecretKeySelector(mcpv1.SecretKeySelector{Name: "Bad_Name", Key: "a/b"}, field.NewPath("ref"))
	if len(errs) != 2 || errs[0].Field != "ref.name" || errs[1].Field != "ref.key" {
		t.Fatalf("got %v, want errors for ref.name and ref.key", errs)
	}
	if errs := validateSecretKeySelector(mcpv1.SecretKeySelector{Name: "api-key", Key: "token.txt"}, field.NewPath("ref")); len(errs) != 0 {
		t.Fatalf("valid selector rejected: %v", errs)
	}
}
