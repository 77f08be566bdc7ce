package webhooks

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/httpheader"
)

// validateHeaderName reports httpheader.Problem as a field error.
func validateHeaderName(name string, authType mcpv1.AuthType, path *field.Path) field.ErrorList {
	if problem := httpheader.Problem(name, authType); problem != "" {
		return field.ErrorList{field.Invalid(path, name, problem)}
	}
	return nil
}
