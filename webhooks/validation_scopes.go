package webhooks

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

// validateScopes: each entry one RFC 6749 scope-token, none twice.
func validateScopes(scopes []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, s := range scopes {
		p := path.Index(i)
		switch {
		case s == "":
			errs = append(errs, field.Invalid(p, s, "must not be empty: remove the empty entry"))
		case !oauth.ValidScopeToken(s):
			errs = append(errs, field.Invalid(p, s,
				`is not a valid OAuth scope (RFC 6749: printable ASCII without spaces, '"' or '\'): list each scope as its own entry, e.g. [openid, profile]`))
		case seen[s]:
			errs = append(errs, field.Invalid(p, s, "is listed twice: remove the duplicate"))
		}
		seen[s] = true
	}
	return errs
}
