package webhooks

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// ValidateSpec checks the rules that need no API reads. Every error names
// its field and says what to do.
func ValidateSpec(sp *mcpv1.MCPServerSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateEndpointURL(sp.URL, path.Child("url"))...)
	if sp.Tools != nil {
		errs = append(errs, validateTools(sp.Tools, path.Child("tools"))...)
	}
	errs = append(errs, validateAuth(&sp.Auth, path.Child("auth"))...)
	return errs
}

func validateAuth(a *mcpv1.Auth, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if o := a.OAuth2; o != nil {
		p := path.Child("oauth2")
		if o.AuthorizationURL != "" {
			errs = append(errs, validateEndpointURL(o.AuthorizationURL, p.Child("authorizationURL"))...)
		}
		if o.TokenURL != "" {
			errs = append(errs, validateEndpointURL(o.TokenURL, p.Child("tokenURL"))...)
		}
		if o.Issuer != "" {
			errs = append(errs, validateEndpointURL(o.Issuer, p.Child("issuer"))...)
		}
		errs = append(errs, validateScopes(o.Scopes, p.Child("scopes"))...)
		if o.ClientSecretRef != nil {
			errs = append(errs, validateSecretKeySelector(*o.ClientSecretRef, p.Child("clientSecretRef"))...)
		}
	}
	if k := a.APIKey; k != nil {
		p := path.Child("apiKey")
		errs = append(errs, validateHeaderName(k.Header, a.Type, p.Child("header"))...)
		errs = append(errs, validateSecretKeySelector(k.SecretKeyRef, p.Child("secretKeyRef"))...)
	}
	if h := a.Headers; h != nil {
		errs = append(errs, validateSecretName(h.SecretRef.Name, path.Child("headers", "secretRef", "name"))...)
	}
	return errs
}
