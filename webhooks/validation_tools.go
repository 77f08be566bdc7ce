package webhooks

import (
	"fmt"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation/field"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// maxToolNameLength bounds a tool name, as MCP recommends (1 to 128).
const maxToolNameLength = 128

// validateTools: names non-empty, bounded, without whitespace or control
// characters, and no tool both allowed and denied.
func validateTools(t *mcpv1.ToolFilter, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateToolNames(t.Allow, path.Child("allow"))...)
	errs = append(errs, validateToolNames(t.Deny, path.Child("deny"))...)
	denied := map[string]bool{}
	for _, n := range t.Deny {
		denied[n] = true
	}
	for i, n := range t.Allow {
		if denied[n] {
			errs = append(errs, field.Invalid(path.Child("allow").Index(i), n, fmt.Sprintf(
				"tool %q is both allowed and denied; deny would win and it would never be offered: remove it from allow or from deny", n)))
		}
	}
	return errs
}

func validateToolNames(names []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, n := range names {
		p := path.Index(i)
		switch {
		case n == "":
			errs = append(errs, field.Invalid(p, n, "must not be empty: remove the empty entry"))
		case len(n) > maxToolNameLength:
			errs = append(errs, field.TooLong(p, "", maxToolNameLength))
		case strings.IndexFunc(n, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			errs = append(errs, field.Invalid(p, n,
				"must not contain spaces or control characters: list each tool as its own entry, by the exact name the server reports"))
		}
	}
	return errs
}
