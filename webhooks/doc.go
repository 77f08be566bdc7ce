// Package webhooks holds the MCPServer admission webhooks: a defaulter that
// normalises what people type (whitespace, empty and duplicate tool names)
// and fills the defaults defined once in api/v1alpha1, and a validator for
// the rules CEL on the CRD cannot express (URL hosts, scope tokens, header
// names, Secret contents, the effect of an update on a registration).
//
// Order in the API server: mutating webhook, then the CRD schema and CEL,
// then the validating webhook. So the validator sees defaulted objects that
// already passed CEL; it re-checks cheap structural rules only where it must
// read them anyway.
package webhooks
