package webhooks

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// The paths are the ones controller-runtime derives from the GVK; the names
// identify the webhooks in denial messages ("admission webhook ... denied").
// +kubebuilder:webhook:path=/mutate-mcpoperator-io-v1alpha1-mcpserver,mutating=true,failurePolicy=fail,sideEffects=None,groups=mcpoperator.io,resources=mcpservers,verbs=create;update,versions=v1alpha1,name=mmcpserver.mcpoperator.io,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-mcpoperator-io-v1alpha1-mcpserver,mutating=false,failurePolicy=fail,sideEffects=None,groups=mcpoperator.io,resources=mcpservers,verbs=create;update,versions=v1alpha1,name=vmcpserver.mcpoperator.io,admissionReviewVersions=v1,timeoutSeconds=10

// The validator reads referenced Secrets straight from the API server.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// SetupWithManager registers the MCPServer defaulting and validating
// webhooks on the manager's webhook server.
func SetupWithManager(mgr ctrl.Manager) error {
	err := ctrl.NewWebhookManagedBy(mgr, &mcpv1.MCPServer{}).
		WithDefaulter(&MCPServerDefaulter{}).
		WithValidator(&MCPServerValidator{Reader: mgr.GetAPIReader()}).
		Complete()
	if err != nil {
		return fmt.Errorf("registering MCPServer webhooks: %w", err)
	}
	return nil
}

// MCPServerDefaulter fills defaults and normalises whitespace.
type MCPServerDefaulter struct{}

var _ admission.Defaulter[*mcpv1.MCPServer] = &MCPServerDefaulter{}

// Default implements admission.Defaulter.
func (*MCPServerDefaulter) Default(_ context.Context, s *mcpv1.MCPServer) error {
	Default(s)
	return nil
}

// MCPServerValidator rejects what CEL cannot and warns about what is allowed
// but probably not meant.
type MCPServerValidator struct {
	// Reader reads Secrets uncached: the manager does not cache Secrets, and
	// an admission answer must reflect what exists now.
	Reader client.Reader
}

var _ admission.Validator[*mcpv1.MCPServer] = &MCPServerValidator{}

// ValidateCreate implements admission.Validator.
func (v *MCPServerValidator) ValidateCreate(ctx context.Context, s *mcpv1.MCPServer) (admission.Warnings, error) {
	return v.validate(ctx, s)
}

// ValidateUpdate implements admission.Validator. Updates that leave the spec
// alone (finalizers, labels, deletion) are not judged again: an object
// stored before a rule existed must still be cleaned up and deleted.
func (v *MCPServerValidator) ValidateUpdate(ctx context.Context, old, s *mcpv1.MCPServer) (admission.Warnings, error) {
	if s.DeletionTimestamp != nil || equality.Semantic.DeepEqual(old.Spec, s.Spec) {
		return nil, nil
	}
	warnings, err := v.validate(ctx, s)
	if err != nil {
		return warnings, err
	}
	return append(warnings, v.reRegistrationWarnings(ctx, old, s)...), nil
}

// ValidateDelete implements admission.Validator; deletion is never refused.
func (*MCPServerValidator) ValidateDelete(context.Context, *mcpv1.MCPServer) (admission.Warnings, error) {
	return nil, nil
}

// validate runs the static rules and the Secret checks and turns the field
// errors into one Invalid status naming every offending field.
func (v *MCPServerValidator) validate(ctx context.Context, s *mcpv1.MCPServer) (admission.Warnings, error) {
	errs := ValidateSpec(&s.Spec, field.NewPath("spec"))
	warnings, secretErrs := v.checkSecrets(ctx, s)
	errs = append(errs, secretErrs...)
	warnings = append(warnings, deprecationWarnings(&s.Spec)...)
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(mcpv1.GroupVersion.WithKind("MCPServer").GroupKind(), s.Name, errs)
	}
	return warnings, nil
}

// deprecationWarnings names the deprecated fields spec sets and what
// replaces them. The fields keep working: v1alpha1 deprecates without a
// conversion.
func deprecationWarnings(spec *mcpv1.MCPServerSpec) admission.Warnings {
	if o := spec.Auth.OAuth2; o != nil && o.OmitResourceOnRefresh {
		return admission.Warnings{"spec.auth.oauth2.omitResourceOnRefresh is deprecated: set spec.auth.oauth2.resourceIndicator.send: ExceptRefresh instead (what it means now), or Never for providers that reject the resource parameter on authorization too"}
	}
	return nil
}
