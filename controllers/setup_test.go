package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The manager's cache must not hold what a Secret's metadata can leak:
// kubectl apply's last-applied annotation carries the Secret's data.
func TestCacheTransformStripsSecretMaterial(t *testing.T) {
	obj := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "api-key",
			Annotations: map[string]string{
				corev1.LastAppliedConfigAnnotation: `{"data":{"key":"c2VjcmV0"}}`,
				"team":                             "chat",
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		},
	}
	out, err := CacheOptions().DefaultTransform(obj)
	if err != nil {
		t.Fatal(err)
	}
	m := out.(*metav1.PartialObjectMetadata)
	if _, ok := m.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration kept in the cache")
	}
	if m.Annotations["team"] != "chat" {
		t.Errorf("other annotations must stay: %v", m.Annotations)
	}
	if m.ManagedFields != nil {
		t.Error("managedFields kept in the cache")
	}
}
