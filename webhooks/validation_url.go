package webhooks

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// Advice shared by the URL rules.
const (
	urlExample  = "e.g. https://mcp.example.com/mcp"
	httpAllowed = "plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost) and in-cluster Services " +
		"(<service>.<namespace>.svc or <service>.<namespace>.svc.cluster.local): use https"
)

// validateEndpointURL applies the rules for spec.url and the OAuth endpoints:
// absolute http(s) with a host, no user info, no fragment, and plain http
// only where the traffic cannot leave the node or the cluster.
func validateEndpointURL(raw string, path *field.Path) field.ErrorList {
	// Echoed in the admission answer: user info, query and fragment can
	// carry secrets and are dropped.
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
		return field.ErrorList{field.Invalid(path, shown, "must be an absolute http or https URL, "+urlExample)}
	}
	var errs field.ErrorList
	if u.Host == "" || u.Hostname() == "" {
		errs = append(errs, field.Invalid(path, shown, "must name a host, "+urlExample))
	}
	if u.User != nil {
		errs = append(errs, field.Invalid(path, shown,
			"must not contain user info (user:password@): remove it and put credentials in spec.auth (auth.type APIKey or Headers with a Secret)"))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		errs = append(errs, field.Invalid(path, shown, "must not have a fragment (#...): remove it"))
	}
	if u.Scheme == "http" && u.Hostname() != "" && !oauth.IsLoopbackHost(u.Hostname()) && !oauth.IsClusterLocalHost(u.Hostname()) {
		errs = append(errs, field.Invalid(path, shown, httpAllowed))
	}
	return errs
}
