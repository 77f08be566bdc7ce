// Package event records the operator's Kubernetes events: one place bounds
// the note, so a long upstream error can neither flood an event nor make the
// API server reject it.
package event

import (
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// maxNote keeps a note under the 1 kB events.k8s.io allows, in characters
// (what people read; notes are ASCII but for quoted upstream text).
const maxNote = 1000

// Record emits an event about regarding (related may be nil) when a recorder
// is configured. reason is one of api/v1alpha1's reasons; note must hold no
// secret.
func Record(r recorder.EventRecorder, regarding, related runtime.Object, eventType, reason, action, note string) {
	if r == nil {
		return
	}
	r.Eventf(regarding, related, eventType, reason, action, "%s", redact.Truncate(note, maxNote))
}
